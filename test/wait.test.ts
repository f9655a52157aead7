import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { parseAddress } from '../src/address.js';
import { AbortError, TimeoutError, UsageError } from '../src/errors.js';
import { waitFor } from '../src/wait.js';
import { tempDir } from './helpers.js';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function listenOn(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

test('a TCP address and a Unix socket that come up after the first attempts are waited for', {
  timeout: 8000,
}, async (t) => {
  const port = await freePort();
  const dir = tempDir();
  const tcp = createServer((s) => s.destroy());
  const unix = createServer((s) => s.destroy());
  t.after(() => {
    tcp.close();
    unix.close();
    dir.remove();
  });
  const path = `${dir.path}/app.sock`;
  const addresses = [parseAddress(`tcp://127.0.0.1:${port}`), parseAddress(`unix:${path}`)];
  const failures: string[] = [];
  const results = await waitFor(addresses, {
    timeout: 6000,
    minDelay: 10,
    onRetry: (address, error) => {
      failures.push(`${address.scheme}: ${error.reason}`);
      // Each service starts once it has been seen down: the wait must outlast that.
      if (address.scheme === 'tcp' && !tcp.listening) tcp.listen(port, '127.0.0.1');
      if (address.scheme === 'unix' && !unix.listening) unix.listen(path);
    },
  });
  assert.deepEqual(
    results.map((r) => [r.address, r.attempts >= 2]),
    [
      [addresses[0], true],
      [addresses[1], true],
    ],
  );
  assert.ok(failures.includes('tcp: connection refused'), failures.join(', '));
  assert.ok(failures.includes('unix: no such socket file'), failures.join(', '));
});

test('at the timeout it rejects naming every address that never came up and why', {
  timeout: 5000,
}, async (t) => {
  const port = await freePort();
  const up = createServer((s) => s.destroy());
  t.after(() => up.close());
  const upPort = await listenOn(up);
  const started = Date.now();
  const err = await waitFor(
    [
      parseAddress(`tcp://127.0.0.1:${upPort}`),
      parseAddress(`tcp://127.0.0.1:${port}`),
      parseAddress('unix:/nonexistent-sockkit-dir/x.sock'),
    ],
    { timeout: 400 },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof TimeoutError);
  assert.equal(err.code, 'ERR_TIMEOUT');
  assert.equal(
    err.message,
    `wait tcp://127.0.0.1:${port} unix:/nonexistent-sockkit-dir/x.sock: not up within 400ms: ` +
      `tcp://127.0.0.1:${port}: connection refused; unix:/nonexistent-sockkit-dir/x.sock: no such socket file`,
  );
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('with expect, a service is up only once its reply contains the expected bytes', {
  timeout: 5000,
}, async (t) => {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.once('data', () => socket.end(connections < 3 ? '-LOADING\r\n' : '+PONG\r\n'));
  });
  t.after(() => server.close());
  const port = await listenOn(server);
  const reasons: string[] = [];
  const [result] = await waitFor([parseAddress(`tcp://127.0.0.1:${port}`)], {
    send: 'PING\r\n',
    expect: 'PONG',
    minDelay: 10,
    timeout: 4000,
    onRetry: (_address, error) => reasons.push(error.reason),
  });
  assert.equal(result?.attempts, 3);
  assert.deepEqual(reasons, ['the reply did not contain "PONG"', 'the reply did not contain "PONG"']);
});

test('a service that talks endlessly without the expected reply fails each attempt in bounded time', {
  timeout: 5000,
}, async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = createServer((socket) => {
    socket.on('error', () => {});
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk));
    };
    socket.on('drain', pump);
    pump();
  });
  t.after(() => server.close());
  const port = await listenOn(server);
  const err = await waitFor([parseAddress(`tcp://127.0.0.1:${port}`)], {
    expect: 'READY',
    attemptTimeout: 200,
    timeout: 900,
  }).catch((e: unknown) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(err.message, /: timed out$/);
  assert.ok(process.memoryUsage().rss < 512 * 1024 * 1024);
});

test('a tls:// address is up only after a finished handshake, not at the TCP connect', {
  timeout: 5000,
}, async (t) => {
  const plain = createServer((s) => s.end('hello\n'));
  t.after(() => plain.close());
  const port = await listenOn(plain);
  const err = await waitFor([parseAddress(`tls://127.0.0.1:${port}`)], { timeout: 400 }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof TimeoutError);
  assert.match(err.message, /does not speak TLS|closed the connection during the TLS handshake/);
});

test('a udp:// address is up once it answers with the expected datagram; without expect it is a usage error', {
  timeout: 5000,
}, async (t) => {
  const echo = createSocket('udp4', (msg, peer) => echo.send(msg, peer.port, peer.address));
  t.after(() => echo.close());
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  const address = parseAddress(`udp://127.0.0.1:${echo.address().port}`);
  const [result] = await waitFor([address], { send: 'ping', expect: 'ping', timeout: 3000 });
  assert.equal(result?.attempts, 1);
  await assert.rejects(
    waitFor([address]),
    (err: unknown) => err instanceof UsageError && err.option === 'expect',
  );
});

test('aborting the wait rejects with AbortError at once', { timeout: 5000 }, async () => {
  const port = await freePort();
  const controller = new AbortController();
  const waiting = waitFor([parseAddress(`tcp://127.0.0.1:${port}`)], {
    signal: controller.signal,
    onRetry: () => controller.abort(),
  });
  await assert.rejects(waiting, (err: unknown) => err instanceof AbortError && err.code === 'ERR_ABORTED');
});

test('a peer that accepts but never reads what is sent fails each attempt in bounded time', {
  timeout: 5000,
}, async (t) => {
  const held: Socket[] = [];
  const server = createServer((socket) => {
    socket.pause(); // never read: our send fills its buffers and stalls
    held.push(socket);
  });
  t.after(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  const port = await listenOn(server);
  const attempts: string[] = [];
  const err = await waitFor([parseAddress(`tcp://127.0.0.1:${port}`)], {
    send: Buffer.alloc(32 * 1024 * 1024),
    attemptTimeout: 300,
    minDelay: 10,
    timeout: 1500,
    onRetry: (_address, error) => attempts.push(error.reason),
  }).catch((e: unknown) => e);
  assert.ok(err instanceof TimeoutError);
  // Without a bound on the send, the first attempt would hang until the overall timeout.
  assert.ok(attempts.length >= 2, JSON.stringify(attempts));
  assert.equal(attempts[0], 'timed out');
});
