/**
 * collectReplies' contract: every reply from every host within the timeout, as it arrives; a
 * resend only when nothing came; NoReplyError, AbortError; the socket closed however it ends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  collectReplies,
  type Datagram,
  listenPacket,
  type PacketConn,
  parseAddress,
} from '../../src/index.js';

/**
 * chorus binds a socket that answers each datagram from itself and from `others` more sockets,
 * as several hosts answer one broadcast: each reply comes from its own address.
 */
async function chorus(others: number): Promise<{ conn: PacketConn; close: () => Promise<void> }> {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const voices = [conn];
  for (let i = 0; i < others; i += 1) voices.push(await listenPacket(parseAddress('udp://127.0.0.1:0')));
  conn.onMessage((data, peer) => {
    for (const voice of voices)
      voice.write(Buffer.concat([data, Buffer.from(` from ${voice.localAddress.port}`)]), peer);
  });
  return { conn, close: async () => void (await Promise.all(voices.map((v) => v.close()))) };
}

test('yields every reply that arrives within the timeout, each from its own address', {
  timeout: 5000,
}, async () => {
  const hosts = await chorus(2);
  try {
    const replies: Datagram[] = [];
    for await (const reply of collectReplies(hosts.conn.localAddress, 'hello', { timeout: 300 }))
      replies.push(reply);
    assert.equal(replies.length, 3);
    assert.equal(new Set(replies.map((r) => r.peer.port)).size, 3, 'three different senders');
    for (const reply of replies) assert.equal(reply.data.toString(), `hello from ${reply.peer.port}`);
    assert.equal(hosts.conn.datagramsReceived, 1, 'no resend once a reply came');
  } finally {
    await hosts.close();
  }
});

test('a silent address is sent to retries + 1 times, then NoReplyError', { timeout: 5000 }, async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    const replies = collectReplies(silent.localAddress, 'anyone?', { timeout: 100, retries: 2 });
    await assert.rejects(
      async () => {
        for await (const _ of replies);
      },
      {
        name: 'NoReplyError',
        code: 'ERR_NO_REPLY',
        message: `send udp://127.0.0.1:${silent.localAddress.port}: no reply after 3 attempts (100ms each)`,
      },
    );
    assert.equal(silent.datagramsReceived, 3);
  } finally {
    await silent.close();
  }
});

test('breaking out of the loop closes the socket at once', { timeout: 5000 }, async () => {
  const hosts = await chorus(3);
  try {
    const started = Date.now();
    let replies = 0;
    for await (const _ of collectReplies(hosts.conn.localAddress, 'x', { timeout: 4000 })) {
      replies += 1;
      break;
    }
    assert.equal(replies, 1);
    assert.ok(Date.now() - started < 3000, 'did not wait out the timeout');
  } finally {
    await hosts.close();
  }
});

test('aborting before any reply is an AbortError', { timeout: 5000 }, async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const controller = new AbortController();
  try {
    const replies = collectReplies(silent.localAddress, 'x', { timeout: 4000, signal: controller.signal });
    const first = replies.next();
    silent.onMessage(() => controller.abort());
    await assert.rejects(first, { name: 'AbortError', code: 'ERR_ABORTED' });
  } finally {
    await silent.close();
  }
});

test('a message larger than a datagram and a scheme other than udp are refused before sending', async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    await assert.rejects(collectReplies(silent.localAddress, Buffer.alloc(65_508)).next(), {
      code: 'ERR_MESSAGE_TOO_LARGE',
    });
    await assert.rejects(collectReplies(parseAddress('tcp://127.0.0.1:7'), 'x').next(), {
      code: 'ERR_UNSUPPORTED_SCHEME',
    });
    assert.equal(silent.datagramsReceived, 0);
  } finally {
    await silent.close();
  }
});
