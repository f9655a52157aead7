/**
 * The private Node.js fields sockkit reads (src/node-internals.ts). These tests fail loudly when a
 * Node release renames one, instead of letting a fast path fall back in silence; the fallback
 * itself is tested too.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, Socket } from 'node:net';
import { test } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { onReadAccess, serverOf, tlsParentSocket } from '../src/node-internals.js';
import { selfSignedCertificate } from '../src/security/certificate.js';
import { readInto } from '../src/stream/read-into.js';

test(`an accepted socket has the onread fields and the server it came from (Node ${process.version})`, async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const socket = await accepted;
  const access = onReadAccess(socket);
  assert.ok(access, 'net.Socket lost _handle.useUserBuffer or the kBuffer/kBufferCb/kBufferGen symbols');
  assert.equal(access.get(access.fields.buffer), null, 'a socket not in onread mode has a null kBuffer');
  assert.equal(serverOf(socket), server, 'an accepted socket no longer points to its server');
  client.destroy();
  socket.destroy();
  server.close();
});

test('a server-side TLS socket keeps the TCP socket it wraps', async () => {
  const { cert, key } = await selfSignedCertificate(['localhost']);
  const server = createTlsServer({ cert, key });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const secure = new Promise<TLSSocket>((resolve) => server.once('secureConnection', resolve));
  const client = tlsConnect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    rejectUnauthorized: false,
  });
  client.on('error', () => {});
  const socket = await secure;
  const parent = tlsParentSocket(socket);
  assert.ok(parent instanceof Socket, 'TLSSocket no longer keeps the TCP socket as _parent');
  assert.equal(parent.remotePort, client.localPort);
  client.destroy();
  socket.destroy();
  server.close();
});

test('without a native handle there is no onread access, and readInto declines (the public path is taken)', () => {
  const socket = new Socket();
  assert.equal(onReadAccess(socket), undefined);
  assert.equal(
    readInto(socket, () => {}),
    false,
  );
  assert.equal(tlsParentSocket(socket), undefined);
  assert.equal(serverOf(socket), undefined);
});
