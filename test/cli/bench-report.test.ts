import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers.js';

test('bench against a server that is not an echo server says so first, and fails', {
  timeout: 9000,
}, async () => {
  const chargen = await startCli(['serve', 'chargen', 'tcp://127.0.0.1:0']);
  const result = await runCli(['bench', chargen.urls[0] as string, '-t', '500ms']);
  await chargen.stop();
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stdout.toString(),
    /^every reply differed from what was sent: is this an echo server\?/,
  );
  assert.match(result.stdout.toString(), /: 1 connection, 64 B messages/);
});

test('bench with no reply at all prints no latency figures it did not measure', {
  timeout: 9000,
}, async () => {
  const discard = await startCli(['serve', 'discard', 'tcp://127.0.0.1:0']);
  const result = await runCli(['bench', discard.urls[0] as string, '-t', '300ms']);
  await discard.stop();
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout.toString(), /^ {2}latency {4}n\/a \(no replies to time\)$/m);
  assert.doesNotMatch(result.stdout.toString(), /p50 0 µs/);
});
