import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { runCli } from '../helpers.js';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

test('wait runs the command after -- once everything is up, and exits with its code', {
  timeout: 8000,
}, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const result = await runCli([
    'wait',
    `tcp://127.0.0.1:${port}`,
    '--timeout',
    '5s',
    '--',
    process.execPath,
    '-e',
    'console.log("started"); process.exit(7)',
  ]);
  assert.equal(result.code, 7, result.stderr);
  assert.equal(result.stdout.toString(), 'started\n');
  assert.match(
    result.stderr,
    new RegExp(`^tcp://127\\.0\\.0\\.1:${port} is up after \\d+(ms|\\.?\\d*s) \\(1 attempt\\)\\n$`),
  );
});

test('wait exits 1 at the timeout naming what never came up, and never runs the command', {
  timeout: 8000,
}, async () => {
  const port = await freePort();
  const result = await runCli([
    'wait',
    `tcp://127.0.0.1:${port}`,
    '--timeout',
    '300ms',
    '--quiet',
    '--',
    'sh',
    '-c',
    'echo should-not-run',
  ]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout.toString(), '');
  assert.equal(
    result.stderr,
    `sockkit: wait tcp://127.0.0.1:${port}: not up within 300ms: tcp://127.0.0.1:${port}: connection refused\n`,
  );
});

test('wait usage errors exit 2 with one line', { timeout: 8000 }, async () => {
  const results = await Promise.all([
    runCli(['wait', 'udp://127.0.0.1:9']),
    runCli(['wait', 'tcp://127.0.0.1:9', '--attempt-timeout', '0']),
    runCli(['wait', 'tcp://127.0.0.1:9', '--ca', 'x.pem']),
  ]);
  assert.deepEqual(
    results.map((r) => r.code),
    [2, 2, 2],
  );
  assert.match(
    results[0]?.stderr ?? '',
    /^sockkit: wait udp:\/\/127\.0\.0\.1:9: --expect is needed for udp:\/\//,
  );
  assert.match(results[1]?.stderr ?? '', /^sockkit: --attempt-timeout: must be from 1ms to 10m \(got 0\)\n$/);
  assert.match(
    results[2]?.stderr ?? '',
    /^sockkit: wait: --ca applies to tls:\/\/ or wss:\/\/ addresses only, not tcp:\/\/127\.0\.0\.1:9\n$/,
  );
});
