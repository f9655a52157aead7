/**
 * The socket option flags from the command line, each checked where it shows: the source address
 * and port a server sees, keepalive timers and the accept queue as `ss` shows them, an IPv4
 * client refused by an IPv6-only server, the TTL a datagram arrives with, and `-q` ending a
 * session the server never closes. Flags that do not fit the URL are usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { hostPort, runCli, startCli } from '../helpers.js';
import { receiveOne } from '../socket-probe.js';

const run = promisify(execFile);

/** plainServer listens on `host` and hands out each accepted socket; it never writes or closes by itself. */
async function plainServer(
  host = '127.0.0.1',
): Promise<{ server: Server; port: number; next: () => Promise<Socket> }> {
  const server = createServer();
  const waiting: Socket[] = [];
  server.on('connection', (socket) => waiting.push(socket));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const next = async (): Promise<Socket> => {
    while (waiting.length === 0) await once(server, 'connection');
    return waiting.shift() as Socket;
  };
  return { server, port: (server.address() as AddressInfo).port, next };
}

/** timersOf returns the `timer:(...)` of the established sockets `filter` selects, as `ss -tno` shows them. */
async function timersOf(filter: string): Promise<string[]> {
  const { stdout } = await run('ss', ['-Htno', 'state', 'established', filter]);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => /timer:\(([^)]*)\)/.exec(line)?.[1] ?? 'none');
}

/**
 * keepaliveLeft reads the time left on a keepalive timer as ss prints it (`keepalive,6.9sec,0`;
 * some versions write `8.980ms` for 8.98 s): the number, NaN for another timer. The kernel's own
 * default idle (7200 s) prints as `119min`, far above any bound a test sets.
 */
function keepaliveLeft(timer: string | undefined): number {
  return Number(/^keepalive,([\d.]+)/.exec(timer ?? '')?.[1]);
}

test('send -s ADDR -p PORT: the server sees the connection come from there', { timeout: 8000 }, async () => {
  const { server, port, next } = await plainServer();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.2', resolve));
  const sourcePort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const sent = runCli(['send', `tcp://127.0.0.1:${port}`, 'hi', '-s', '127.0.0.2', '-p', String(sourcePort)]);
  const socket = await next();
  assert.deepEqual([socket.remoteAddress, socket.remotePort], ['127.0.0.2', sourcePort]);
  socket.end();
  const result = await sent;
  assert.equal(result.code, 0, result.stderr);
  server.close();
});

test('connect --keepalive 7s arms a keepalive timer of at most 7 s; without it there is none', {
  timeout: 10_000,
}, async () => {
  const { server, port, next } = await plainServer();
  const kept = await startCli(['connect', `tcp://127.0.0.1:${port}`, '--keepalive', '7s'], {
    stdin: 'pipe',
    listens: 0,
  });
  const keptSocket = await next();
  const plain = await startCli(['connect', `tcp://127.0.0.1:${port}`], { stdin: 'pipe', listens: 0 });
  const plainSocket = await next();
  const [keptTimer] = await timersOf(`( src 127.0.0.1:${keptSocket.remotePort} )`);
  const [plainTimer] = await timersOf(`( src 127.0.0.1:${plainSocket.remotePort} )`);
  const seconds = keepaliveLeft(keptTimer);
  assert.ok(seconds > 0 && seconds <= 7, `client timer: ${keptTimer}`);
  assert.equal(plainTimer, 'none');
  keptSocket.end();
  plainSocket.end();
  kept.child.stdin?.end();
  plain.child.stdin?.end();
  assert.equal((await kept.done).code, 0);
  assert.equal((await plain.done).code, 0);
  server.close();
});

test('echo --keepalive 9s --backlog 3: accepted connections get the timer, the queue is 3', {
  timeout: 10_000,
}, async () => {
  const echo = await startCli(['echo', 'tcp://127.0.0.1:0', '--keepalive', '9s', '--backlog', '3']);
  const { port } = hostPort(echo.urls[0] as string);
  const { stdout } = await run('ss', ['-Hltn', `sport = :${port}`]);
  assert.equal(stdout.trim().split(/\s+/)[2], '3', stdout);
  const client = connect({ host: '127.0.0.1', port });
  await once(client, 'connect');
  client.write('x');
  await once(client, 'data');
  const [timer] = await timersOf(`( src 127.0.0.1:${port} )`);
  const seconds = keepaliveLeft(timer);
  assert.ok(seconds > 0 && seconds <= 9, `server timer: ${timer}`);
  client.destroy();
  assert.equal((await echo.stop()).code, 0);
});

test('echo tcp://[::]:0 --ipv6-only refuses an IPv4 client and serves an IPv6 one', {
  timeout: 10_000,
}, async () => {
  const echo = await startCli(['echo', 'tcp://[::]:0', '--ipv6-only']);
  const { port } = hostPort(echo.urls[0] as string);
  const v4 = await runCli(['send', `tcp://127.0.0.1:${port}`, 'hi']);
  assert.equal(v4.code, 1);
  assert.match(v4.stderr, /connection refused/);
  const v6 = await runCli(['send', `tcp://[::1]:${port}`, 'hi']);
  assert.equal(v6.code, 0, v6.stderr);
  assert.equal(v6.stdout.toString(), 'hi');
  await echo.stop();
});

test('connect -4 to a name reaches its IPv4 address only', { timeout: 8000 }, async () => {
  const { server, port, next } = await plainServer('::');
  const client = runCli(['connect', '-4', `tcp://localhost:${port}`]);
  const socket = await next();
  assert.match(socket.remoteAddress ?? '', /^(::ffff:)?127\.0\.0\.1$/);
  socket.end();
  assert.equal((await client).code, 0);
  server.close();
});

test('send udp:// --ttl 5: the datagram arrives with TTL 5, from --source', { timeout: 8000 }, async () => {
  const { port, report } = await receiveOne('127.0.0.1');
  const sent = runCli([
    'send',
    `udp://127.0.0.1:${port}`,
    'hops',
    '--ttl',
    '5',
    '-s',
    '127.0.0.2',
    '--timeout',
    '200ms',
    '--retries',
    '0',
  ]);
  const seen = await report;
  assert.deepEqual([seen.ttl, seen.host, seen.data], [5, '127.0.0.2', 'hops']);
  assert.equal((await sent).code, 1, 'the receiver never answers: no reply');
});

test('connect -q 200ms quits after stdin has ended and been sent, though the server never closes', {
  timeout: 8000,
}, async () => {
  const { server, port, next } = await plainServer();
  const client = runCli(['connect', `tcp://127.0.0.1:${port}`, '-q', '200ms'], { input: 'bye\n' });
  const socket = await next();
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk;
  });
  await once(socket, 'end');
  const result = await client;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(received, 'bye\n');
  socket.destroy();
  server.close();
});

/** refusedAll runs each command line at once and checks each is a one-line usage error matching its pattern. */
async function refusedAll(cases: readonly [string[], RegExp][]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const result = results[i] as Awaited<ReturnType<typeof runCli>>;
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
}

test('a client socket flag that does not fit the URL is a usage error, one line, exit 2', {
  timeout: 10_000,
}, async () => {
  await refusedAll([
    [
      ['send', 'udp://127.0.0.1:9', 'x', '--keepalive'],
      /^sockkit: send: --keepalive: only for tcp:\/\/ and tls:\/\/ addresses/,
    ],
    [['send', 'tcp://127.0.0.1:9', 'x', '--ttl', '3'], /^sockkit: send: --ttl: only for udp:\/\/ addresses/],
    [
      ['connect', 'unix:/tmp/none.sock', '--no-nodelay'],
      /^sockkit: connect: --no-nodelay: only for tcp:\/\/ and tls:\/\//,
    ],
    [['send', 'tcp://127.0.0.1:9', 'x', '-4', '-6'], /-4 and -6 exclude each other/],
  ]);
});

test('a malformed socket flag, or one that fits no listener, is a usage error too', {
  timeout: 10_000,
}, async () => {
  await refusedAll([
    [['send', 'tcp://127.0.0.1:9', 'x', '--source', 'localhost'], /--source.*not an IP address/],
    [['send', 'tcp://127.0.0.1:9', 'x', '--keepalive', '500ms'], /--keepalive/],
    [
      ['echo', 'udp://127.0.0.1:0', '--backlog', '8'],
      /^sockkit: echo: --backlog: only for tcp:\/\/, tls:\/\/ and unix: addresses/,
    ],
    [['send', '--keepalive', 'tcp://127.0.0.1:9', 'x'], /put the URL before --keepalive/],
  ]);
});
