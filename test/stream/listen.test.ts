/**
 * listen's contract, read as a specification: what it binds and reports, the one error for an
 * address in use, and how a listener stops (close, or its signal) and gives its port back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Conn, type InetAddress, type Listener, listen, parseAddress } from '../../src/index.js';
import { tempDir } from '../helpers.js';

const INDEX = fileURLToPath(new URL('../../src/index.js', import.meta.url));

function portOf(listener: Listener): number {
  return (listener.address as InetAddress).port;
}

/** open connects a plain client to `port` on `host` and resolves once connected. */
async function open(port: number, host = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ host, port });
  await once(socket, 'connect');
  return socket;
}

/** refused resolves with the error code a client gets from `port` (ECONNREFUSED when nobody listens). */
function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

test('listen on port 0 binds a free port and reports the real one', { timeout: 5000 }, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  try {
    const port = portOf(listener);
    assert.ok(port > 0 && port <= 65535, `port ${port}`);
    assert.deepEqual(listener.addresses, [{ scheme: 'tcp', host: '127.0.0.1', port }]);
    const client = await open(port);
    const conn = await listener.accept();
    assert.deepEqual(conn.localAddress, { scheme: 'tcp', host: '127.0.0.1', port });
    assert.deepEqual(conn.remoteAddress, { scheme: 'tcp', host: '127.0.0.1', port: client.localPort });
    client.destroy();
    conn.close();
  } finally {
    await listener.close();
  }
});

test('listen on [::1] port 0 reports an IPv6 address', { timeout: 5000 }, async () => {
  const listener = await listen(parseAddress('tcp://[::1]:0'));
  try {
    assert.equal((listener.address as InetAddress).host, '::1');
    const client = await open(portOf(listener), '::1');
    const conn = await listener.accept();
    assert.equal((conn.remoteAddress as InetAddress).host, '::1');
    client.destroy();
    conn.close();
  } finally {
    await listener.close();
  }
});

test('a name binds every address it resolves to, on one port, and each accepts', {
  timeout: 8000,
  skip: process.getuid?.() === 0 ? false : 'needs root: resolves a test name through a private /etc/hosts',
}, async () => {
  // A private mount namespace sees its own /etc/hosts, where dual.test has both loopback addresses.
  const dir = tempDir();
  try {
    const hosts = join(dir.path, 'hosts');
    writeFileSync(hosts, '::1 dual.test\n127.0.0.1 dual.test\n');
    const script = `
      import { connect } from 'node:net';
      import { once } from 'node:events';
      const { listen, parseAddress } = await import(${JSON.stringify(INDEX)});
      const listener = await listen(parseAddress('tcp://dual.test:0'));
      const accepted = [];
      for (const address of listener.addresses) {
        const client = connect({ host: address.host, port: address.port });
        await once(client, 'connect');
        const conn = await listener.accept();
        accepted.push(conn.localAddress.host);
        client.destroy();
        conn.close();
      }
      await listener.close();
      console.log(JSON.stringify({ addresses: listener.addresses, accepted }));
    `;
    const { stdout } = await promisify(execFile)(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount --bind "$0" /etc/hosts && exec "$@"',
        hosts,
        process.execPath,
        '--input-type=module',
        '-e',
        script,
      ],
      { timeout: 7000 },
    );
    const { addresses, accepted } = JSON.parse(stdout) as { addresses: InetAddress[]; accepted: string[] };
    const port = addresses[0]?.port ?? 0;
    assert.ok(port > 0);
    assert.deepEqual(addresses, [
      { scheme: 'tcp', host: '::1', port },
      { scheme: 'tcp', host: '127.0.0.1', port },
    ]);
    assert.deepEqual(accepted, ['::1', '127.0.0.1']);
  } finally {
    dir.remove();
  }
});

test('an address in use is AddressInUseError naming the URL, with the errno kept', {
  timeout: 5000,
}, async () => {
  const first = await listen(parseAddress('tcp://127.0.0.1:0'));
  try {
    const url = `tcp://127.0.0.1:${portOf(first)}`;
    await assert.rejects(listen(parseAddress(url)), {
      name: 'AddressInUseError',
      code: 'ERR_ADDRESS_IN_USE',
      errno: 'EADDRINUSE',
      op: 'listen',
      url,
      message: `listen ${url}: address already in use`,
    });
    // The first listener is untouched by the failed attempt.
    const client = await open(portOf(first));
    (await first.accept()).close();
    client.destroy();
  } finally {
    await first.close();
  }
});

test('close() frees the port: it can be bound again at once, and nobody is accepted there', {
  timeout: 5000,
}, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const port = portOf(listener);
  await listener.close();
  assert.equal(await refused(port), 'ECONNREFUSED');
  const again = await listen(parseAddress(`tcp://127.0.0.1:${port}`));
  assert.equal(portOf(again), port);
  await again.close();
});

test('close() ends a waiting accept with AbortError and ends iteration', { timeout: 5000 }, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const url = `tcp://127.0.0.1:${portOf(listener)}`;
  const waiting = assert.rejects(listener.accept(), {
    name: 'AbortError',
    code: 'ERR_ABORTED',
    message: `accept ${url}: aborted`,
  });
  const iterated: Conn[] = [];
  const iteration = (async () => {
    for await (const conn of listener) iterated.push(conn);
  })();
  await listener.close();
  await waiting;
  await iteration;
  assert.equal(iterated.length, 0);
  await assert.rejects(listener.accept(), { name: 'AbortError', code: 'ERR_ABORTED' });
});

test('close() leaves connections already taken open, and closes the ones nobody took', {
  timeout: 5000,
}, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const port = portOf(listener);
  const taken = await open(port);
  const conn = await listener.accept();
  // The server's 'connection' event comes after the listener has queued the connection.
  const queued = once(listener.servers[0] as Server, 'connection');
  const untaken = await open(port);
  untaken.on('error', () => {});
  const untakenClosed = once(untaken, 'close');
  await queued;
  await listener.close();
  await untakenClosed;
  taken.write('still here');
  const [chunk] = (await once(conn.socket, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'still here');
  conn.close();
  taken.destroy();
});

test('aborting the signal closes the listener', { timeout: 5000 }, async () => {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
  const port = portOf(listener);
  const waiting = assert.rejects(listener.accept(), { name: 'AbortError', code: 'ERR_ABORTED' });
  controller.abort();
  await waiting;
  assert.equal(await refused(port), 'ECONNREFUSED');
});

test('a signal already aborted gives a listener that is closed from the start', {
  timeout: 5000,
}, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: AbortSignal.abort() });
  await assert.rejects(listener.accept(), { name: 'AbortError', code: 'ERR_ABORTED' });
  assert.equal(await refused(portOf(listener)), 'ECONNREFUSED');
});

test('handle() receives every connection, including those accepted before it was set', {
  timeout: 5000,
}, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  try {
    const port = portOf(listener);
    const queued = once(listener.servers[0] as Server, 'connection');
    const early = await open(port);
    await queued;
    const handled: Conn[] = [];
    const both = new Promise<void>((resolve) => {
      listener.handle((conn) => {
        handled.push(conn);
        if (handled.length === 2) resolve();
      });
    });
    const late = await open(port);
    await both;
    assert.equal(handled.length, 2);
    for (const conn of handled) conn.close();
    early.destroy();
    late.destroy();
  } finally {
    await listener.close();
  }
});
