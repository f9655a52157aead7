import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers.js';

test('echo --workers 2 prints one listening line, serves on the shared port, and stops both workers on SIGINT', async () => {
  const server = await startCli(['echo', 'tcp://127.0.0.1:0', '--workers', '2']);
  const url = server.urls[0] as string;
  const bench = await runCli(['bench', url, '-c', '8', '-t', '500ms', '--json']);
  assert.equal(bench.code, 0, bench.stderr);
  const summary = JSON.parse(bench.stdout.toString().trim().split('\n').pop() as string);
  assert.ok(summary.messages > 0);
  assert.equal(summary.mismatches, 0);
  const result = await server.stop('SIGINT');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr.match(/^listening on /gm)?.length, 1, result.stderr);
  // One shutdown line and one total for the whole server, not one of each per worker.
  assert.equal(result.stderr.match(/shutting down/g)?.length, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /worker \d: served/, result.stderr);
  const total = /^sockkit: served (\d+) connections?, .*\(2 workers\)$/m.exec(result.stderr);
  assert.ok(total, result.stderr);
  assert.ok(Number(total[1]) >= 8, `bench opened 8 connections: ${result.stderr}`);
});

test('serve echo takes --workers as echo does', async () => {
  const server = await startCli(['serve', 'echo', 'tcp://127.0.0.1:0', '--workers', '2']);
  const reply = await runCli(['send', server.urls[0] as string, 'hello']);
  assert.equal(reply.code, 0, reply.stderr);
  assert.equal(reply.stdout.toString(), 'hello');
  const result = await server.stop('SIGTERM');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^sockkit: served 1 connection, .*\(2 workers\)$/m);
});

test('echo --workers refuses a listener it cannot share, as a usage error', async () => {
  const result = await runCli(['echo', 'udp://127.0.0.1:0', '--workers', '2']);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^sockkit: echo: --workers applies to tcp:\/\/ or tls:\/\/ addresses only, not udp:/m,
  );
  // With a listener it can share beside one it cannot, the workers refuse the other.
  const mixed = await runCli(['echo', 'tcp://127.0.0.1:0', 'udp://127.0.0.1:0', '--workers', '2']);
  assert.equal(mixed.code, 2);
  assert.match(
    mixed.stderr,
    /^sockkit: echo: --workers shares tcp and tls listeners only, not udp:\/\/127\.0\.0\.1:0/m,
  );
});
