import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FloodControl } from '../../src/chat/flood-control.js';

describe('FloodControl', () => {
  test('lets a burst through, then spaces lines at the rate', () => {
    const flood = new FloodControl(10, 3);
    const now = Date.now();
    assert.deepEqual([flood.take(now), flood.take(now), flood.take(now)], [0, 0, 0]);
    assert.equal(flood.take(now), 100); // the fourth line waits one token: 1/10 s
    assert.equal(flood.take(now), 200);
  });

  test('refills tokens with time, up to the burst', () => {
    const flood = new FloodControl(10, 2);
    const now = Date.now();
    flood.take(now);
    flood.take(now);
    assert.equal(flood.take(now + 10_000), 0);
    assert.equal(flood.take(now + 10_000), 0);
    assert.ok(flood.take(now + 10_000) > 0);
  });

  test('never waits when the rate is 0 (no limit)', () => {
    const flood = new FloodControl(0, 1);
    for (let i = 0; i < 100; i++) assert.equal(flood.take(), 0);
  });

  test('refuses a negative rate and a burst under one line', () => {
    assert.throws(() => new FloodControl(-1, 1), RangeError);
    assert.throws(() => new FloodControl(1, 0), RangeError);
  });
});
