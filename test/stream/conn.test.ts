/**
 * Conn's contract, read as a specification: reading, writing with backpressure, half-closing
 * either way, the byte counters, and closing; one connected pair on loopback per test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { type Conn, dial, type InetAddress, listen, parseAddress } from '../../src/index.js';

/** pair dials a listener on port 0 and returns both ends of the one connection. */
async function pair(): Promise<{ client: Conn; server: Conn; url: string; close: () => Promise<void> }> {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const accepted = listener.accept();
  const client = await dial(listener.address);
  const server = await accepted;
  await listener.close();
  const url = `tcp://127.0.0.1:${(listener.address as InetAddress).port}`;
  return {
    client,
    server,
    url,
    close: async () => {
      client.close();
      server.close();
      await Promise.all([client.closed, server.closed]);
    },
  };
}

/** readAll reads `conn` to its end (the peer's FIN) and returns every byte. */
async function readAll(conn: Conn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks);
}

test('iterating a Conn yields the bytes the peer sent, in order, and ends at its FIN', {
  timeout: 5000,
}, async () => {
  const { client, server, close } = await pair();
  const payload = randomBytes(256 * 1024);
  const read = readAll(server);
  await client.send(payload.subarray(0, 1000));
  await client.send(payload.subarray(1000));
  await client.closeWrite();
  assert.deepEqual(await read, payload);
  await close();
});

test('onData delivers every chunk, binary-safe, including bytes that are not UTF-8', {
  timeout: 5000,
}, async () => {
  const { client, server, close } = await pair();
  const payload = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a]);
  const chunks: Buffer[] = [];
  const ended = once(server.socket, 'end');
  server.onData((chunk) => chunks.push(chunk));
  client.write(payload);
  await client.closeWrite();
  await ended;
  assert.deepEqual(Buffer.concat(chunks), payload);
  await close();
});

test('write returns false once a peer that does not read has filled the buffers; send waits for drain', {
  timeout: 8000,
}, async () => {
  const { client, server, close } = await pair();
  server.pause();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  // Bounded: loopback buffers hold a few MiB, so 256 MiB without backpressure would be a bug.
  while (client.write(chunk)) {
    written += chunk.length;
    assert.ok(written < 256 * 1024 * 1024, 'write never returned false');
  }
  written += chunk.length;
  // send resolves only once the socket can take more, which needs the peer to read.
  let sent = false;
  const sending = client.send('end').then(() => {
    sent = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent, false);
  let received = 0;
  server.onData((data) => {
    received += data.length;
  });
  server.resume();
  await sending;
  await client.closeWrite();
  await once(server.socket, 'end');
  assert.equal(received, written + 3);
  await close();
});

test('closeWrite from the client: the server reads EOF and can still answer', { timeout: 5000 }, async () => {
  const { client, server, close } = await pair();
  await client.send('question');
  await client.closeWrite();
  assert.equal((await readAll(server)).toString(), 'question');
  const answer = readAll(client);
  await server.send('answer after your FIN');
  await server.closeWrite();
  assert.equal((await answer).toString(), 'answer after your FIN');
  await close();
});

test('closeWrite from the server: the client reads EOF and can still send', { timeout: 5000 }, async () => {
  const { client, server, close } = await pair();
  await server.send('banner');
  await server.closeWrite();
  assert.equal((await readAll(client)).toString(), 'banner');
  const heard = readAll(server);
  await client.send('reply after your FIN');
  await client.closeWrite();
  assert.equal((await heard).toString(), 'reply after your FIN');
  await close();
});

test('closeWrite twice, or after close, resolves and does nothing more', { timeout: 5000 }, async () => {
  const { client, close } = await pair();
  await client.closeWrite();
  await client.closeWrite();
  client.close();
  await client.closeWrite();
  await close();
});

test('bytesSent and bytesReceived count the bytes each way, on both ends', { timeout: 5000 }, async () => {
  const { client, server, close } = await pair();
  assert.deepEqual(
    [client.bytesSent, client.bytesReceived, server.bytesSent, server.bytesReceived],
    [0, 0, 0, 0],
  );
  const request = readAll(server);
  await client.send(Buffer.alloc(1000));
  await client.send('héllo'); // 6 bytes in UTF-8
  await client.closeWrite();
  assert.equal((await request).length, 1006);
  const reply = readAll(client);
  await server.send(Buffer.alloc(300));
  await server.closeWrite();
  assert.equal((await reply).length, 300);
  assert.deepEqual([client.bytesSent, client.bytesReceived], [1006, 300]);
  assert.deepEqual([server.bytesSent, server.bytesReceived], [300, 1006]);
  await close();
});

test('close closes at once: closed resolves on both ends, and the peer reads EOF', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const peerRead = readAll(server);
  client.close();
  await client.closed;
  assert.equal((await peerRead).length, 0);
  server.close();
  await server.closed;
  // closed resolves for a connection that is already closed, when asked late.
  await client.closed;
  assert.equal(client.socket.destroyed, true);
});

test('send on a connection this side closed rejects with ConnectionResetError, blaming no peer', {
  timeout: 5000,
}, async () => {
  const { client, url, close } = await pair();
  client.close();
  await assert.rejects(client.send('late'), {
    name: 'ConnectionResetError',
    code: 'ERR_CONNECTION_RESET',
    message: `write ${url}: the connection is closed`,
  });
  // A send waiting for drain when the connection is closed rejects the same way.
  const { client: writer, server: reader, url: writerUrl, close: closeWriter } = await pair();
  reader.pause();
  const chunk = Buffer.alloc(1024 * 1024);
  let pending: Promise<void> = Promise.resolve();
  for (let i = 0; i < 256; i++) {
    pending = writer.send(chunk);
    if (writer.socket.writableNeedDrain) break;
  }
  assert.ok(writer.socket.writableNeedDrain, 'the peer never pushed back');
  writer.close();
  await assert.rejects(pending, {
    name: 'ConnectionResetError',
    message: `write ${writerUrl}: the connection is closed`,
  });
  await closeWriter();
  await close();
});

test('a reset by the peer rejects the reader with ConnectionResetError, kept in error', {
  timeout: 5000,
}, async () => {
  const { client, server, url, close } = await pair();
  const reading = readAll(client);
  server.socket.resetAndDestroy();
  await assert.rejects(reading, {
    name: 'ConnectionResetError',
    code: 'ERR_CONNECTION_RESET',
    errno: 'ECONNRESET',
    message: `read ${url}: connection reset by peer`,
  });
  assert.equal(client.error?.code, 'ERR_CONNECTION_RESET');
  await client.closed;
  await close();
});

test('localAddress and remoteAddress mirror each other across the connection', {
  timeout: 5000,
}, async () => {
  const { client, server, close } = await pair();
  assert.deepEqual(client.remoteAddress, server.localAddress);
  assert.deepEqual(client.localAddress, server.remoteAddress);
  assert.notEqual(client.socketId, server.socketId);
  await close();
});
