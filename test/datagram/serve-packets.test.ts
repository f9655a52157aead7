import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { echoDatagram } from '../../src/services/echo.js';

test('servePackets serves several sockets and sums them in its summary once stopped', async () => {
  const controller = new AbortController();
  const conns = [
    await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal }),
    await listenPacket(parseAddress('udp://[::1]:0'), { signal: controller.signal }),
  ];
  const served = servePackets(conns, echoDatagram, { signal: controller.signal });
  for (const conn of conns) {
    const client = await dialPacket(conn.localAddress);
    assert.equal((await client.request('abc')).data.toString(), 'abc');
    await client.close();
  }
  controller.abort();
  assert.deepEqual(await served, {
    datagramsReceived: 2,
    datagramsSent: 2,
    bytesReceived: 6,
    bytesSent: 6,
    dropped: 0,
    overBudget: 0,
  });
  for (const conn of conns) assert.equal(await conn.read(), undefined, 'closed');
});

test('a service that throws on one datagram loses only that datagram; the server keeps serving', async () => {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal });
  const served = servePackets(
    [conn],
    (data, peer, socket) => {
      if (data.toString() === 'boom') throw new Error('bad input');
      socket.write(data, peer);
    },
    { signal: controller.signal },
  );
  const client = await dialPacket(conn.localAddress);
  await assert.rejects(client.request('boom', { timeout: 100, retries: 0 }), { code: 'ERR_NO_REPLY' });
  assert.equal((await client.request('fine')).data.toString(), 'fine');
  await client.close();
  controller.abort();
  const summary = await served;
  assert.equal(summary.dropped, 1);
  assert.equal(summary.datagramsSent, 1);
});

test('a signal that already aborted stops at once', async () => {
  const controller = new AbortController();
  controller.abort();
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const summary = await servePackets([conn], echoDatagram, { signal: controller.signal });
  assert.equal(summary.datagramsReceived, 0);
});
