/**
 * The HTTP proxy's forwarded requests (`GET http://host/path`) name the host the proxy connected
 * to, whatever Host the client wrote: RFC 9112 §3.2.2 ("the proxy MUST ignore the received Host
 * header field (if any) and instead replace it with the host information of the request-target").
 * Passed through, a client's Host reaches another virtual host of the allowed destination than
 * the one the destination rules were checked against.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { startProxy } from '../proxy/servers.js';

test('a forwarded request carries the Host of its URL, not the one the client wrote', {
  timeout: 10_000,
}, async () => {
  let received = '';
  const sockets = new Set<Socket>();
  const origin = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    });
  }).listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const originPort = (origin.address() as { port: number }).port;
  const proxy = await startProxy();
  try {
    const client = connect(proxy.url('http').port, '127.0.0.1');
    client.on('error', () => {});
    client.write(`GET http://127.0.0.1:${originPort}/x HTTP/1.1\r\nHost: admin.internal\r\n\r\n`);
    // The proxy keeps the connection for the next request (keep-alive): wait for the answer, not a close.
    let answer = '';
    await new Promise<void>((resolve) => {
      client.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
        if (answer.includes('\r\n\r\n')) resolve();
      });
    });
    client.destroy();
    assert.match(answer, /^HTTP\/1\.1 204 /);
    assert.match(received, /^GET \/x HTTP\/1\.1\r\n/);
    const hosts = [...received.matchAll(/^host: (.*)\r$/gim)].map((m) => m[1]);
    assert.deepEqual(hosts, [`127.0.0.1:${originPort}`], `the origin read: ${JSON.stringify(received)}`);
  } finally {
    await proxy.stop();
    for (const socket of sockets) socket.destroy();
    origin.close();
  }
});
