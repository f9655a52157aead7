/**
 * bench's files. `--compare FILE` given a file of valid JSON that is no summary: the refusal
 * names what is wrong with the file, never JavaScript's own words. `null` (or a `null` line last in the file)
 * made parseBaseline read a property of null: `sockkit: bench: --compare null.json: Cannot read
 * properties of null (reading 'messages_per_second')`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBaseline } from '../../src/bench/compare.js';
import { runCli } from '../helpers.js';

const NO_SUMMARY = /^holds no bench summary/;

test('a baseline of JSON null, or of a summary with null figures, holds no bench summary', {}, () => {
  for (const text of [
    'null',
    '{"type":"summary","messages_per_second":5,"latency_us":{"p50":1}}\nnull',
    '{"type":"summary","messages_per_second":5,"latency_us":null}',
  ]) {
    if (text.endsWith('null') && text.includes('\n')) {
      // The summary above the stray null is still found.
      assert.equal(parseBaseline(text).messages_per_second, 5);
      continue;
    }
    assert.throws(() => parseBaseline(text), { name: 'RangeError', message: NO_SUMMARY }, text);
  }
});

test('bench --report with an empty file name is a usage error, as --pcap and --dump are', {
  timeout: 10_000,
}, async () => {
  // Today the empty name reads as "no report": the run goes on and exits 0 without writing one.
  const run = await runCli(['bench', 'tcp://127.0.0.1:9', '-t', '100ms', '--report', '']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^sockkit: bench: --report needs a file name\n$/);
});
