import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CATCH_UP, MAX_BURST, TokenBucket } from '../../src/faults/token-bucket.js';

test('a new bucket is full: its burst passes at once, then bytes wait for the rate', () => {
  const bucket = new TokenBucket(1000, 0, 100);
  assert.equal(bucket.waitFor(0, 100), 0);
  bucket.spend(100, 0);
  // 50 bytes at 1000 B/s take 50 ms.
  assert.equal(bucket.waitFor(0, 50), 50);
  assert.equal(bucket.waitFor(25, 50), 25);
  assert.equal(bucket.waitFor(50, 50), 0);
});

test('over a long run no more than burst + rate * time passes', () => {
  const bucket = new TokenBucket(10_000, 0, 500);
  let now = 0;
  let passed = 0;
  // Pieces of 300 bytes, each sent as soon as the bucket allows, for 10 simulated seconds.
  while (now < 10_000) {
    const wait = bucket.waitFor(now, 300);
    if (wait > 0) {
      now += wait;
      continue;
    }
    bucket.spend(300, now);
    passed += 300;
  }
  assert.ok(passed <= 500 + 10_000 * 10 + 300, `${passed} bytes passed`);
  assert.ok(passed >= 10_000 * 10 * 0.99, `${passed} bytes passed`);
});

test('a piece larger than the burst waits for a full bucket, then goes below zero', () => {
  const bucket = new TokenBucket(1000, 0, 10);
  bucket.spend(10, 0);
  assert.equal(bucket.waitFor(0, 1_000_000), 10);
  bucket.spend(1000, 10);
  // 990 bytes of debt at 1000 B/s: about a second before one more byte.
  assert.equal(bucket.waitFor(10, 1), 991);
});

test('tokens saved while idle never exceed the burst', () => {
  const bucket = new TokenBucket(1000, 0, 100);
  bucket.spend(100, 0);
  assert.equal(bucket.waitFor(60_000, 100), 0);
  bucket.spend(100, 60_000);
  assert.ok(bucket.waitFor(60_000, 100) > 0);
});

test('the default burst is a twentieth of the rate, at least 1 byte and at most MAX_BURST', () => {
  assert.equal(new TokenBucket(100_000, 0).burst, 5000);
  assert.equal(new TokenBucket(3, 0).burst, 1);
  assert.equal(new TokenBucket(1e9, 0).burst, MAX_BURST);
});

test('a rate that is not a positive number is a RangeError', () => {
  for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new TokenBucket(rate, 0), { name: 'RangeError', message: /^rate / });
  }
});

test('a bucket in debt looked at late is credited the wait, up to CATCH_UP bursts', () => {
  const bucket = new TokenBucket(1000, 0, 100);
  bucket.spend(150, 0);
  // 50 bytes in debt, looked at 350 ms later: 350 bytes earned, 300 past the debt, all kept
  // (an idle bucket would keep 100).
  assert.equal(bucket.waitFor(350, 1), 0);
  bucket.spend(300, 350);
  // Nothing left, no debt: one byte's wait (a capped bucket would be 200 bytes in debt).
  assert.equal(bucket.waitFor(350), 1);
  // A much later look is capped: CATCH_UP bursts at most.
  const late = new TokenBucket(1000, 0, 100);
  late.spend(101, 0);
  late.waitFor(60_000);
  late.spend(CATCH_UP * 100, 60_000);
  assert.ok(late.waitFor(60_000) > 0, 'no more than CATCH_UP bursts were credited');
});
