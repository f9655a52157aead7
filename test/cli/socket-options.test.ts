/**
 * The socket option flags from the command line, each checked where it shows: the source address
 * and port a server sees, keepalive timers and the accept queue as `ss` shows them, an IPv4
 * client refused by an IPv6-only server, the TTL a datagram arrives with, and `-q` ending a
 * session the server never closes. Flags that do not fit the URL are usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  type ClientSocketFlags,
  clientSocketOptionsOf,
  serverSocketOptionsOf,
} from '../../src/cli/options/socket.js';
import { parseAddress, UsageError } from '../../src/index.js';
import { hostPort, runCli, startCli } from '../helpers.js';
import { receiveOne } from '../socket-probe.js';
import { connectOutcome, freePort, keepaliveLeft, plainServer, timersOf } from './socket-options-probes.js';

const run = promisify(execFile);

test('send -s ADDR -p PORT: the server sees the connection come from there', { timeout: 8000 }, async () => {
  const { server, port, next } = await plainServer();
  const sourcePort = await freePort('127.0.0.2');
  const sent = runCli(['send', `tcp://127.0.0.1:${port}`, 'hi', '-s', '127.0.0.2', '-p', String(sourcePort)]);
  const socket = await next();
  assert.deepEqual([socket.remoteAddress, socket.remotePort], ['127.0.0.2', sourcePort]);
  socket.end();
  const result = await sent;
  assert.equal(result.code, 0, result.stderr);
  server.close();
});

test('connect --keepalive 7s arms a keepalive timer of at most 7 s on its socket', {
  timeout: 10_000,
}, async () => {
  // The other side of the contract, no timer without the flag, is checked on the library's socket.
  const { server, port, next } = await plainServer();
  const kept = await startCli(['connect', `tcp://127.0.0.1:${port}`, '--keepalive', '7s'], {
    stdin: 'pipe',
    listens: 0,
  });
  const keptSocket = await next();
  // The server accepts before the client's process has seen its connect and set the option; a
  // byte from the client comes after both (Node sets keepalive before it flushes any write).
  kept.child.stdin?.write('x');
  await once(keptSocket, 'data');
  const [keptTimer] = await timersOf(`( src 127.0.0.1:${keptSocket.remotePort} )`);
  const seconds = keepaliveLeft(keptTimer);
  assert.ok(seconds > 0 && seconds <= 7, `client timer: ${keptTimer}`);
  keptSocket.end();
  kept.child.stdin?.end();
  assert.equal((await kept.done).code, 0);
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
  assert.equal(await connectOutcome('127.0.0.1', port), 'ECONNREFUSED');
  const v6 = connect({ host: '::1', port });
  v6.end('hi');
  const [echoed] = await once(v6, 'data');
  assert.equal(String(echoed), 'hi');
  v6.destroy();
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
  const { port, report, stop } = await receiveOne('127.0.0.1');
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
  try {
    const seen = await report;
    assert.deepEqual([seen.ttl, seen.host, seen.data], [5, '127.0.0.2', 'hops']);
    assert.equal((await sent).code, 1, 'the receiver never answers: no reply');
  } finally {
    stop();
  }
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

/** refusal returns the message of the UsageError `make` throws. */
function refusal(make: () => unknown): string {
  try {
    make();
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.message;
  }
  assert.fail('no usage error');
}

test('a client socket flag that cannot work is refused, naming it', () => {
  // A flag for another scheme (--ttl on tcp://) is refused by the command line: scheme-flags.test.ts.
  const of = (url: string, flags: ClientSocketFlags): string =>
    refusal(() => clientSocketOptionsOf('send', parseAddress(url), flags));
  assert.equal(of('tcp://127.0.0.1:9', { ipv4: true, ipv6: true }), 'send: -4 and -6 exclude each other');
  assert.equal(
    of('tcp://127.0.0.1:9', { source: '::1' }),
    'send: --source ::1 is IPv6, and 127.0.0.1 is IPv4: give a source of the same family',
  );
});

test('the client flags become the library options of their scheme', () => {
  const tcp = clientSocketOptionsOf('send', parseAddress('tcp://localhost:9'), {
    source: '127.0.0.2',
    sourcePort: 4000,
    keepalive: 30_000,
    nodelay: false,
    ipv4: true,
    connectTimeout: 500,
  });
  assert.deepEqual(tcp, {
    tcp: { localAddress: '127.0.0.2', localPort: 4000, keepAlive: 30_000, noDelay: false },
    family: 4,
    connectTimeout: 500,
    packet: { localAddress: '127.0.0.2', localPort: 4000 },
  });
  const udp = clientSocketOptionsOf('send', parseAddress('udp://127.0.0.1:9'), { ttl: 9 });
  assert.deepEqual(udp.packet, { ttl: 9 });
});

test('the server flags become the library options of their listeners', () => {
  assert.deepEqual(serverSocketOptionsOf({ backlog: 8, keepalive: 9000, ipv6Only: true }), {
    backlog: 8,
    ipv6Only: true,
    tcp: { keepAlive: 9000 },
  });
  assert.deepEqual(serverSocketOptionsOf({}), { backlog: undefined, ipv6Only: undefined, tcp: undefined });
});

test('from the command line, a refused or malformed socket flag is one line, exit 2', {
  timeout: 10_000,
}, async () => {
  const [unfit, swallowed] = await Promise.all([
    runCli(['send', 'udp://127.0.0.1:9', 'x', '--keepalive']),
    runCli(['send', '--keepalive', 'tcp://127.0.0.1:9', 'x']),
  ]);
  assert.equal(unfit.code, 2);
  assert.equal(
    unfit.stderr,
    'sockkit: send: --keepalive applies to tcp:// or tls:// addresses only, not udp://127.0.0.1:9\n',
  );
  assert.equal(swallowed.code, 2);
  assert.equal(
    swallowed.stderr,
    'sockkit: --keepalive: "tcp://127.0.0.1:9" is not an idle time: put the URL before --keepalive, or write --keepalive=60s\n',
  );
});

test('listen -q 200ms quits after stdin has ended and been sent, though the client never closes', {
  timeout: 8000,
}, async () => {
  const listener = await startCli(['listen', 'tcp://127.0.0.1:0', '-q', '200ms'], { stdin: 'pipe' });
  listener.child.stdin?.end('reply\n');
  const client = connect(hostPort(listener.urls[0] as string));
  let received = '';
  client.on('data', (chunk: Buffer) => {
    received += chunk;
  });
  // The client never ends its side: only -q ends the session, and the listener's FIN and close show it.
  await once(client, 'end');
  const result = await listener.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(received, 'reply\n');
  client.destroy();
});

test('connect udp:// --ttl 5: each datagram arrives with TTL 5, from --source', {
  timeout: 8000,
}, async () => {
  const { port, report, stop } = await receiveOne('127.0.0.1');
  const sent = runCli(
    ['connect', `udp://127.0.0.1:${port}`, '--ttl', '5', '-s', '127.0.0.2', '--linger', '100ms'],
    { input: 'hops' },
  );
  try {
    const seen = await report;
    assert.deepEqual([seen.ttl, seen.host, seen.data], [5, '127.0.0.2', 'hops']);
    assert.equal((await sent).code, 0);
  } finally {
    stop();
  }
});
