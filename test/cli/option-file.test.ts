/**
 * readOptionFile, the one reader of files that flags name: whole up to its limit, refused past
 * it, also for a file that says size 0 and holds more (under /proc).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOptionFile } from '../../src/cli/options/option-file.js';
import { UsageError } from '../../src/index.js';
import { tempDir } from '../helpers.js';

test('a file of exactly the limit is read whole, one byte more is refused naming the limit', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'f');
    writeFileSync(path, Buffer.alloc(100_000, 7));
    assert.deepEqual(readOptionFile('--x', path, 100_000), Buffer.alloc(100_000, 7));
    assert.throws(
      () => readOptionFile('--x', path, 99_999),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message === `--x: cannot read ${path}: larger than 99999B, the most that is read`,
    );
  } finally {
    dir.remove();
  }
});

test('a /proc file (size 0 in stat) is read whole, and refused when it holds more than the limit', () => {
  const text = readFileSync('/proc/self/maps');
  assert.ok(text.length > 1000, 'the maps of a Node process run past a few lines');
  assert.ok(readOptionFile('--x', '/proc/self/maps').toString().includes('node'));
  assert.throws(
    () => readOptionFile('--x', '/proc/self/maps', 1000),
    /larger than 1000B, the most that is read$/,
  );
});
