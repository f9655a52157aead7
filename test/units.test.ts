import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { formatBytes, parseCount, parseDuration, parseSize } from '../src/units.js';

test('parseDuration reads ms, s, m, h and bare seconds', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('3'), 3000);
  assert.equal(parseDuration('0.5'), 500);
});

test('parseDuration rejects text that is not a duration, naming the flag', () => {
  for (const text of ['', 'abc', '-1s', '2 days', '1s2']) {
    assert.throws(
      () => parseDuration(text, '--timeout'),
      (e: unknown) => e instanceof UsageError && /--timeout: invalid duration/.test(e.message),
    );
  }
});

test('parseSize reads binary and decimal units and bare bytes', () => {
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize('64KiB'), 65536);
  assert.equal(parseSize('1MiB'), 1048576);
  assert.equal(parseSize('10k'), 10_000);
  assert.equal(parseSize('2M'), 2_000_000);
  assert.equal(parseSize('7B'), 7);
});

test('parseSize rejects unknown units', () => {
  assert.throws(() => parseSize('5 parsecs', '--size'), /--size: invalid size "5 parsecs"/);
});

test('parseCount keeps to its range', () => {
  assert.equal(parseCount('5', '--count', 1, 10), 5);
  assert.throws(() => parseCount('0', '--count', 1, 10), /--count: invalid number "0"/);
  assert.throws(() => parseCount('1.5', '--count'), UsageError);
});

test('formatBytes picks a readable unit', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(65536), '64.0 KiB');
  assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MiB');
});
