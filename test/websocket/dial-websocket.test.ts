/**
 * dialWebSocket against a server that speaks first: what it sends in the same breath as its
 * upgrade answer is read, not lost between the handshake and the connection's listeners.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { type WebSocket as PeerSocket, WebSocketServer } from 'ws';
import { parseAddress, type WebSocketAddress } from '../../src/address.js';
import { dialWebSocket } from '../../src/websocket/dial-websocket.js';

test('messages and a close sent right after the upgrade are all read, in order', {
  timeout: 10_000,
}, async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', (peer: PeerSocket) => {
    peer.send('text first');
    peer.send(Buffer.from('then binary'));
    peer.close(1000, 'done');
  });
  const { port } = server.address() as { port: number };
  try {
    for (let round = 0; round < 5; round += 1) {
      const conn = await dialWebSocket(parseAddress(`ws://127.0.0.1:${port}/`) as WebSocketAddress);
      const read: string[] = [];
      for await (const message of conn) read.push(`${message.binary ? 'binary' : 'text'}:${message.data}`);
      assert.deepEqual(read, ['text:text first', 'binary:then binary']);
      assert.equal(conn.closeCode, 1000);
      assert.equal(conn.closeReason, 'done');
    }
  } finally {
    server.close();
  }
});
