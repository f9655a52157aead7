/**
 * The figures a report prints (byte counts in forward's and proxy's summaries) at the edges of
 * their units: a count just under a unit boundary is written in the next unit, never as 1024 of
 * the one below.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, GiB, KiB, MiB } from '../../src/index.js';

test('formatBytes never writes 1024 of a unit: a count just under a boundary is one of the next', () => {
  assert.equal(formatBytes(MiB - 1), '1.0 MiB');
  assert.equal(formatBytes(MiB - 51), '1.0 MiB');
  assert.equal(formatBytes(GiB - 1), '1.00 GiB');
  assert.equal(formatBytes(KiB - 1), '1023 B');
  assert.equal(formatBytes(MiB - 103), '1023.9 KiB');
  // Every count that rounds up to the boundary, below each unit's.
  for (const boundary of [MiB, GiB])
    for (let below = 1; below <= boundary / 20_000; below += Math.max(1, Math.floor(boundary / 2e6)))
      assert.doesNotMatch(formatBytes(boundary - below), /^1024\.0* /, `${boundary - below} bytes`);
});
