import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PingStatistics } from '../../src/raw/ping-statistics.js';

const reply = (sequence: number, rtt: number, duplicate = false) =>
  ({ type: 'reply', sequence, source: '127.0.0.1', bytes: 64, rtt, duplicate, corrupted: false }) as const;

test('no events give zero transmitted, zero loss and no rtt', () => {
  assert.deepEqual(new PingStatistics().summary(), {
    transmitted: 0,
    received: 0,
    duplicates: 0,
    errors: 0,
    loss: 0,
  });
});

test('min, avg, max and mdev follow iputils arithmetic', () => {
  const statistics = new PingStatistics();
  for (const [sequence, rtt] of [
    [1, 1],
    [2, 2],
    [3, 3],
  ] as const) {
    statistics.add({ type: 'sent', sequence });
    statistics.add(reply(sequence, rtt));
  }
  const summary = statistics.summary();
  assert.equal(summary.loss, 0);
  assert.deepEqual(summary.rtt, { min: 1, avg: 2, max: 3, mdev: Math.sqrt(14 / 3 - 4) });
});

test('duplicates, errors and timeouts count apart from replies', () => {
  const statistics = new PingStatistics();
  for (let sequence = 1; sequence <= 3; sequence++) statistics.add({ type: 'sent', sequence });
  statistics.add(reply(1, 0.5));
  statistics.add(reply(1, 0.7, true));
  statistics.add({
    type: 'error',
    sequence: 2,
    source: '10.77.1.1',
    icmpType: 11,
    icmpCode: 0,
    text: 'Time to live exceeded',
    errorKind: 'time-exceeded',
    rest: 0,
    rtt: 1,
  });
  statistics.add({ type: 'timeout', sequence: 3 });
  const summary = statistics.summary();
  assert.equal(summary.transmitted, 3);
  assert.equal(summary.received, 1);
  assert.equal(summary.duplicates, 1);
  assert.equal(summary.errors, 1);
  assert.equal(summary.loss, (2 * 100) / 3);
  assert.deepEqual(summary.rtt, { min: 0.5, avg: 0.5, max: 0.5, mdev: 0 });
});
