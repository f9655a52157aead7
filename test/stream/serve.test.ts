/**
 * serve's contract, read as a specification: every connection goes to the service until the
 * signal aborts; then a graceful shutdown stops accepting, gives open connections the grace
 * period, closes the rest by force, and reports what it did.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import {
  type Conn,
  dial,
  echoStream,
  type InetAddress,
  type Listener,
  listen,
  parseAddress,
  serve,
} from '../../src/index.js';

function portOf(listener: Listener): number {
  return (listener.address as InetAddress).port;
}

/** exchange sends `text` on a new connection, half-closes, and returns everything the server sent back. */
async function exchange(listener: Listener, text: string): Promise<string> {
  const conn = await dial(listener.address);
  await conn.send(text);
  await conn.closeWrite();
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  conn.close();
  return Buffer.concat(chunks).toString();
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

test('serve passes every connection to the service and, once stopped, counts them and their bytes', {
  timeout: 8000,
}, async () => {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const served = serve([listener], echoStream, { signal: controller.signal });
  assert.equal(await exchange(listener, 'one'), 'one');
  assert.equal(await exchange(listener, 'second'), 'second');
  controller.abort();
  assert.deepEqual(await served, { connections: 2, forciblyClosed: 0, bytesReceived: 9, bytesSent: 9 });
});

test('serve takes connections from every listener it is given', { timeout: 8000 }, async () => {
  const controller = new AbortController();
  const listeners = await Promise.all([
    listen(parseAddress('tcp://127.0.0.1:0')),
    listen(parseAddress('tcp://[::1]:0')),
  ]);
  const served = serve(listeners, echoStream, { signal: controller.signal });
  assert.equal(await exchange(listeners[0] as Listener, 'four'), 'four');
  assert.equal(await exchange(listeners[1] as Listener, 'six'), 'six');
  controller.abort();
  const summary = await served;
  assert.equal(summary.connections, 2);
  assert.equal(summary.bytesReceived, 7);
});

test('on abort serve stops accepting at once, and a connection that finishes within the grace is not forced', {
  timeout: 8000,
}, async () => {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const port = portOf(listener);
  const opened: Conn[] = [];
  const served = serve(
    [listener],
    (conn) => {
      opened.push(conn);
      echoStream(conn);
    },
    { signal: controller.signal, grace: 5000 },
  );
  const client = await dial(listener.address);
  await client.send('in flight');
  const [chunk] = (await once(client.socket, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'in flight');
  // A waiting accept ends with AbortError when the listener closes: the event to wait for.
  const listenerClosed = assert.rejects(listener.accept(), { name: 'AbortError' });
  controller.abort();
  // The listener closes at once: a new client is refused while the old one is still served.
  await listenerClosed;
  assert.equal(await refused(port), 'ECONNREFUSED');
  await client.send(' and after');
  const [late] = (await once(client.socket, 'data')) as [Buffer];
  assert.equal(late.toString(), ' and after');
  // The client finishes; the echo answers its FIN; serve is done long before the grace ends.
  const started = performance.now();
  await client.closeWrite();
  for await (const _ of client);
  client.close();
  const summary = await served;
  assert.ok(performance.now() - started < 4000, 'serve waited for the grace period');
  assert.deepEqual(summary, { connections: 1, forciblyClosed: 0, bytesReceived: 19, bytesSent: 19 });
  assert.equal(opened.length, 1);
});

test('a connection still open when the grace ends is closed by force and counted', {
  timeout: 8000,
}, async () => {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  let accepted: (conn: Conn) => void = () => {};
  const acceptedConn = new Promise<Conn>((resolve) => {
    accepted = resolve;
  });
  // A service that reads and never answers nor closes: only the shutdown ends it.
  const served = serve([listener], (conn) => accepted(conn), { signal: controller.signal, grace: 200 });
  const idle: Socket = connect({ host: '127.0.0.1', port: portOf(listener) });
  idle.on('error', () => {});
  const idleClosed = once(idle, 'close');
  await once(idle, 'connect');
  idle.write('12345');
  const server = await acceptedConn;
  server.onData(() => {});
  await once(server.socket, 'data');
  controller.abort();
  const summary = await served;
  assert.deepEqual(summary, { connections: 1, forciblyClosed: 1, bytesReceived: 5, bytesSent: 0 });
  assert.equal(server.socket.destroyed, true);
  await idleClosed;
});

test('a signal already aborted gives an empty summary and closes the listeners', {
  timeout: 5000,
}, async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const summary = await serve([listener], echoStream, { signal: AbortSignal.abort() });
  assert.deepEqual(summary, { connections: 0, forciblyClosed: 0, bytesReceived: 0, bytesSent: 0 });
  assert.equal(await refused(portOf(listener)), 'ECONNREFUSED');
});
