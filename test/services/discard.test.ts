import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { services } from '../../src/services/index.js';
import { readAll, serveBoth } from './serve-both.js';

const discard = services.discard;

test('over TCP everything sent is read and nothing comes back; the server closes after the client', async () => {
  const running = await serveBoth(discard);
  try {
    const reply = await readAll(running.tcp, 'x'.repeat(1_000_000));
    assert.equal(reply.length, 0);
  } finally {
    const [streams] = await running.stop();
    assert.equal(streams.bytesReceived, 1_000_000);
    assert.equal(streams.bytesSent, 0);
  }
});

test('over UDP datagrams are received and never answered', async () => {
  const running = await serveBoth(discard);
  const client = await dialPacket(running.udp);
  try {
    for (const text of ['', 'one', 'two']) await client.send(text);
    assert.equal(await client.read(300), undefined, 'no reply within 300ms');
  } finally {
    await client.close();
    const [, datagrams] = await running.stop();
    assert.equal(datagrams.datagramsReceived, 3);
    assert.equal(datagrams.datagramsSent, 0);
  }
});
