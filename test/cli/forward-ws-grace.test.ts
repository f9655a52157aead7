/**
 * `forward ws://…` shutting down: a WebSocket client still open when the grace is over is told
 * the server is going away (close code 1001, RFC 6455 §7.4.1), as `listen ws://` tells it.
 * At the grace's end serve() closes each connection left with 1001; WebSocketConn.close() alone
 * would say 1000 (normal closure).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { startCli } from '../helpers.js';

test('forward ws:// closes a client still open at the end of the grace with 1001 (going away)', {
  timeout: 9000,
}, async () => {
  // A target that takes the bytes and never ends: the client stays open until the grace is over.
  const held: Socket[] = [];
  const target = createServer((socket) => held.push(socket.on('error', () => {})));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const { port } = target.address() as { port: number };
  const forward = await startCli([
    'forward',
    'ws://127.0.0.1:0/',
    `tcp://127.0.0.1:${port}`,
    '--grace',
    '100ms',
  ]);
  const arrived = once(target, 'connection') as Promise<[Socket]>;
  const client = new WebSocket(forward.urls[0] as string);
  try {
    await once(client, 'open');
    client.send('hello');
    const [socket] = await arrived;
    await once(socket, 'data');
    const closing = once(client, 'close') as Promise<[number, Buffer]>;
    const result = await forward.stop('SIGINT');
    const [code] = await closing;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(code, 1001);
  } finally {
    client.terminate();
    for (const socket of held) socket.destroy();
    target.close();
  }
});
