import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { CLI, runCli, runProgram } from '../helpers.js';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listening(server);
  server.close();
  await once(server, 'close');
  return port;
}

test('scan prints one line per open port, a summary on stderr, and exits 0', { timeout: 8000 }, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  const open = await listening(server);
  const closed = await closedPort();
  const result = await runCli(['scan', '127.0.0.1', `${closed},${open}`, '--timeout', '2s']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.toString(), new RegExp(`^${open}/tcp +open +connected \\d+\\.\\d{3} ms\\n$`));
  assert.match(
    result.stderr,
    /^sockkit: scan 127\.0\.0\.1 \(127\.0\.0\.1\): 2 TCP ports scanned in \d+(ms|\.?\d*s): (1 closed, 1 open|1 open, 1 closed)\n$/,
  );
});

test('scan --all shows closed ports with the reason; no open port exits 1', { timeout: 8000 }, async () => {
  const closed = await closedPort();
  const result = await runCli(['scan', '127.0.0.1', String(closed), '--all']);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout.toString(), new RegExp(`^${closed}/tcp +closed +refused `));
});

test('scan --json prints one object per port and one summary', { timeout: 8000 }, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  const open = await listening(server);
  const closed = await closedPort();
  const result = await runCli(['scan', '127.0.0.1', `${open},${closed}`, '--json', '-4']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const ports = lines.filter((line) => line.type === 'port');
  assert.deepEqual(
    ports.map((p) => [p.port, p.state]).sort(),
    [
      [open, 'open'],
      [closed, 'closed'],
    ].sort(),
  );
  assert.deepEqual(
    [lines.at(-1)?.type, lines.at(-1)?.scanned, lines.at(-1)?.open, lines.at(-1)?.closed],
    ['summary', 2, 1, 1],
  );
});

test('scan usage errors exit 2 with one line', { timeout: 8000 }, async () => {
  const runs: Promise<void>[] = [];
  for (const [args, message] of [
    [
      ['scan', '127.0.0.1', '1-65536'],
      /^sockkit: scan: port 65536 in "1-65536" is out of range \(1-65535\)\n$/,
    ],
    [['scan', '127.0.0.1', '80', '--concurrency', '0'], /^sockkit: --concurrency: must be from 1 to 10000/],
    [['scan', '127.0.0.1', '80', '-u', '--tls'], /^sockkit: scan: --tls applies to TCP scans/],
    [['scan', '-4', '-6', '::1', '80'], /^sockkit: scan: -4 and -6 exclude each other/],
  ] as const) {
    runs.push(
      runCli(args).then((result) => {
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }),
    );
  }
  await Promise.all(runs);
});

test('running out of descriptors ends the scan with one error line, not with ports reported timed out', {
  timeout: 8000,
}, async () => {
  // 1000 probes at once under a limit of 256 descriptors: the scan cannot go on, and must say so
  // rather than report the starved probes as filtered.
  const result = await runProgram('sh', [
    '-c',
    `ulimit -n 256; exec "$0" "$@"`,
    process.execPath,
    CLI,
    'scan',
    '127.0.0.1',
    '1-3000',
    '--concurrency',
    '500',
    '--all',
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout.toString(), '');
  assert.match(
    result.stderr,
    /^sockkit: scan tcp:\/\/127\.0\.0\.1:\d+: too many open files \(raise the limit with ulimit -n, or use fewer connections\)\n$/,
  );
});
