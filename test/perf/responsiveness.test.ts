import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { percentile, summarizeRtts } from '../../src/perf/responsiveness.js';

describe('responsiveness figures', () => {
  test('percentiles are nearest-rank over the sorted round trips', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 0.5), 50);
    assert.equal(percentile(sorted, 0.9), 90);
    assert.equal(percentile(sorted, 0.99), 99);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  test('RPM is 60 000 over the mean of the fastest 95 % of round trips, in ms', () => {
    // Nineteen round trips of 10 ms and one of 1000 ms: the slow one is trimmed away.
    const summary = summarizeRtts([...Array.from({ length: 19 }, () => 10), 1000]);
    assert.equal(summary.count, 20);
    assert.equal(summary.trimmedMean, 10);
    assert.equal(summary.rpm, 6000);
    assert.equal(summary.p50, 10);
    assert.equal(summary.p99, 1000);
  });

  test('an empty set has no figures rather than made-up ones', () => {
    const summary = summarizeRtts([]);
    assert.equal(summary.count, 0);
    assert.ok(Number.isNaN(summary.rpm));
  });
});
