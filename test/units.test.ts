import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
  formatSize,
  GiB,
  KiB,
  MAX_TIMER,
  MiB,
  parseCount,
  parseDuration,
  parseRate,
  parseSize,
  plural,
} from '../src/units.js';

/** usage matches the one UsageError with exactly this message. */
function usage(message: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof UsageError, `a UsageError, not ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  };
}

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

test('parseCount keeps to its range, and names it', () => {
  assert.equal(parseCount('5', '--count', 1, 10), 5);
  assert.equal(parseCount('10', '--count', 1, 10), 10);
  assert.throws(() => parseCount('0', '--count', 1, 10), usage('--count: must be from 1 to 10 (got 0)'));
  assert.throws(
    () => parseCount('99999999999999999999', '--max-clients', 1, 1_000_000),
    usage('--max-clients: must be from 1 to 1000000 (got 99999999999999999999)'),
  );
  assert.throws(() => parseCount('1.5', '--count'), /--count: invalid number "1.5"/);
});

test('parseDuration is at most the largest timer Node keeps, by default', () => {
  assert.equal(MAX_TIMER, 2_147_483_647);
  assert.equal(parseDuration('2147483647ms', '--grace'), MAX_TIMER);
  assert.equal(parseDuration('596h', '--grace'), 596 * 3_600_000);
  assert.equal(parseDuration('0', '--grace'), 0);
  for (const text of ['600h', '2147483648ms', '597h', '35800m', '99999999999999999999']) {
    assert.throws(
      () => parseDuration(text, '--grace'),
      usage(`--grace: must be from 0s to 24.8 days (got ${text})`),
    );
  }
  // A larger max is capped at the largest timer too.
  assert.throws(() => parseDuration('600h', '--timeout', 1, Number.POSITIVE_INFINITY), /to 24\.8 days/);
});

test('parseDuration keeps to a range given, stated in the largest whole unit', () => {
  assert.equal(parseDuration('1ms', '--timeout', 1), 1);
  assert.throws(
    () => parseDuration('0s', '--timeout', 1),
    usage('--timeout: must be from 1ms to 24.8 days (got 0s)'),
  );
  // 0.4ms rounds to 0 ms: out of a range that starts at 1ms.
  assert.throws(() => parseDuration('0.4ms', '--interval', 1), /--interval: must be from 1ms/);
  assert.throws(
    () => parseDuration('50ms', '--redis-lease', 100, 2 * 3_600_000),
    usage('--redis-lease: must be from 100ms to 2h (got 50ms)'),
  );
  assert.throws(() => parseDuration('2h1ms', '--x', 0, 90_000), /invalid duration/);
  assert.throws(
    () => parseDuration('91s', '--x', 1500, 90_000),
    usage('--x: must be from 1.5s to 90s (got 91s)'),
  );
  assert.throws(
    () => parseDuration('2h', '--x', 0, 5 * 60_000),
    usage('--x: must be from 0s to 5m (got 2h)'),
  );
});

test('parseSize keeps to a range given, stated exactly in binary units', () => {
  assert.equal(parseSize('16MiB', '--max-line', 1, 16 * MiB), 16 * MiB);
  assert.equal(parseSize('1', '--max-line', 1, 16 * MiB), 1);
  for (const text of ['0', '16777217', '17MiB', '99999999999999999999', '1G']) {
    assert.throws(
      () => parseSize(text, '--max-line', 1, 16 * MiB),
      usage(`--max-line: must be from 1B to 16MiB (got ${text})`),
    );
  }
  assert.throws(
    () => parseSize('65536', '--size', 0, 65_535),
    usage('--size: must be from 0B to 65535B (got 65536)'),
  );
  assert.throws(
    () => parseSize('2GiB', '--receive-buffer', KiB, GiB),
    usage('--receive-buffer: must be from 1KiB to 1GiB (got 2GiB)'),
  );
});

test('parseRate reads k and M, and keeps to its range', () => {
  assert.equal(parseRate('5000', '--rate'), 5000);
  assert.equal(parseRate('20k', '--rate'), 20_000);
  assert.equal(parseRate('1.5M', '--rate'), 1_500_000);
  assert.throws(() => parseRate('fast', '--rate'), /--rate: invalid rate "fast"/);
  assert.throws(
    () => parseRate('11M', '--rate', 0, 10_000_000),
    usage('--rate: must be from 0 to 10M (got 11M)'),
  );
});

test('every parser refuses values just outside its range and takes values just inside, for every unit', () => {
  const cases: [(text: string) => number, string, number, number][] = [
    [(t) => parseDuration(t, '--d', 1000, 60_000), 'ms', 1000, 60_000],
    [(t) => parseSize(t, '--s', 1, 64 * KiB), 'B', 1, 64 * KiB],
    [(t) => parseCount(t, '--c', 1, 255), '', 1, 255],
  ];
  for (const [parse, unit, min, max] of cases) {
    assert.equal(parse(`${min}${unit}`), min);
    assert.equal(parse(`${max}${unit}`), max);
    for (const outside of [min - 1, max + 1]) {
      assert.throws(
        () => parse(`${outside}${unit}`),
        (e: unknown) =>
          e instanceof UsageError && e.code === 'ERR_USAGE' && /must be from .* \(got /.test(e.message),
      );
    }
  }
});

test('formatBytes picks a readable unit', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(65536), '64.0 KiB');
  assert.equal(formatBytes(1.5 * 1024 * 1024), '1.5 MiB');
});

test('a range with no upper bound a user could reach is said as "N or more"', () => {
  assert.throws(() => parseCount('0', '--count', 1), usage('--count: must be 1 or more (got 0)'));
  assert.throws(
    () => parseCount('x', '--count', 1),
    usage('--count: invalid number "x" (expected a whole number 1 or more)'),
  );
  assert.throws(() => parseSize('0', '--length', 1), usage('--length: must be 1B or more (got 0)'));
  assert.throws(() => parseRate('0', '--rate', 1), usage('--rate: must be 1 or more (got 0)'));
  assert.throws(
    () => parseSize('99999999999999999999', '--length'),
    usage('--length: too large (got 99999999999999999999)'),
  );
  assert.throws(
    () => parseCount('x', '--count', 1, 10),
    usage('--count: invalid number "x" (expected a whole number from 1 to 10)'),
  );
});

test('formatDuration writes a duration as it is typed, in its largest whole unit', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [1, '1ms'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [60_000, '1m'],
    [90_000, '90s'],
    [7_200_000, '2h'],
    [86_400_001, '86400.001s'],
    [MAX_TIMER, '2147483.647s'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms, `${text} reads back as ${ms}`);
  }
});

test('formatSize writes a size exactly, as it is typed', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [64, '64B'],
    [1460, '1460B'],
    [4 * KiB, '4KiB'],
    [128 * KiB, '128KiB'],
    [16 * MiB, '16MiB'],
    [GiB, '1GiB'],
    [1536, '1536B'],
  ];
  for (const [bytes, text] of cases) {
    assert.equal(formatSize(bytes), text);
    assert.equal(parseSize(text), bytes, `${text} reads back as ${bytes}`);
  }
});

test('formatRate writes a rate as it is typed, k and M 1000-based', () => {
  for (const [rate, text] of [
    [0, '0'],
    [5000, '5000'],
    [20_000, '20k'],
    [10_000_000, '10M'],
    [1_500_000, '1500k'],
  ] as const) {
    assert.equal(formatRate(rate), text);
    assert.equal(parseRate(text), rate);
  }
});

test('formatCount groups thousands with commas, and plural says one in the singular', () => {
  assert.equal(formatCount(950), '950');
  assert.equal(formatCount(1_048_576), '1,048,576');
  assert.equal(plural(0, 'connection'), '0 connections');
  assert.equal(plural(1, 'connection'), '1 connection');
  assert.equal(plural(2, 'byte'), '2 bytes');
  assert.equal(plural(12_345, 'datagram'), '12,345 datagrams');
  assert.equal(plural(1, 'reply', 'replies'), '1 reply');
  assert.equal(plural(3, 'reply', 'replies'), '3 replies');
});
