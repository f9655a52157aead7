import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { MAX_DATAGRAM_IPV4 } from '../../src/datagram/limits.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { serviceNamed, services } from '../../src/services/index.js';

test('the registry holds the five classic services, each with a stream and a datagram handler', () => {
  assert.deepEqual(Object.keys(services), ['echo', 'discard', 'chargen', 'daytime', 'time']);
  const ports = Object.values(services).map((s) => [s.name, s.rfc, s.port]);
  assert.deepEqual(ports, [
    ['echo', 'RFC 862', 7],
    ['discard', 'RFC 863', 9],
    ['chargen', 'RFC 864', 19],
    ['daytime', 'RFC 867', 13],
    ['time', 'RFC 868', 37],
  ]);
  for (const service of Object.values(services)) {
    assert.equal(typeof service.stream, 'function');
    assert.equal(typeof service.datagram, 'function');
  }
});

test('serviceNamed finds a service by name and nothing else', () => {
  assert.equal(serviceNamed('chargen')?.port, 19);
  assert.equal(serviceNamed('toString'), undefined);
  assert.equal(serviceNamed('qotd'), undefined);
});

test('every service survives a burst of random datagrams of random sizes and still answers', async () => {
  for (const service of Object.values(services)) {
    const controller = new AbortController();
    const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal });
    const served = servePackets([conn], service.datagram, { signal: controller.signal });
    const client = await dialPacket(conn.localAddress);
    try {
      for (let i = 0; i < 100; i += 1) {
        const size = i % 10 === 0 ? MAX_DATAGRAM_IPV4 : Math.floor(Math.random() * 2048);
        client.write(randomBytes(size));
      }
      if (service.name !== 'discard') {
        const reply = await client.request('still there?', { timeout: 1000, retries: 3 });
        assert.ok(reply.data.length >= 0);
      }
      while (conn.datagramsReceived === 0) await once(conn.socket, 'message');
    } finally {
      await client.close();
      controller.abort();
      const summary = await served;
      assert.ok(summary.datagramsReceived > 0, service.name);
    }
  }
});
