import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { type Hop, traceroute } from '../../src/raw/traceroute.js';
import { TransportSocket } from '../../src/raw/transport-socket.js';
import { closedTcpPort } from './loopback.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

async function hopsOf(trace: AsyncIterable<Hop>): Promise<Hop[]> {
  const hops: Hop[] = [];
  for await (const hop of trace) hops.push(hop);
  return hops;
}

test('a TCP trace to an open port on 127.0.0.1 ends at hop 1 with SYN-ACKs', {
  skip: needsRoot,
  timeout: 8000,
}, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const trace = await traceroute('127.0.0.1', { protocol: 'tcp', port, queries: 3, timeout: 3000 });
  assert.equal(trace.packetSize, 44);
  assertEndsAtHopOne(await hopsOf(trace), '127.0.0.1', true);
});

/**
 * assertEndsAtHopOne checks a TCP trace of 3 queries to a loopback port: it ends at hop 1 and every
 * probe is answered by the target (SYN-ACK when `open`, RST otherwise). The raw TCP socket's kernel filter
 * keeps the host's other TCP traffic out of its buffer, so bulk loopback traffic from other tests
 * can no longer crowd out an answer (it did before: transport-socket.test.ts).
 */
function assertEndsAtHopOne(hops: Hop[], host: string, open: boolean): void {
  assert.deepEqual(
    hops.map((hop) => [hop.ttl, hop.reached, hop.probes.map((p) => [p.kind, p.address, p.open])]),
    [[1, true, Array(3).fill(['reply', host, open])]],
    JSON.stringify(hops),
  );
}

for (const host of ['127.0.0.1', '::1']) {
  test(`a TCP trace to a closed port on ${host} is answered with RSTs`, {
    skip: needsRoot,
    timeout: 8000,
  }, async () => {
    const port = await closedTcpPort(host);
    const hops = await hopsOf(await traceroute(host, { protocol: 'tcp', port, queries: 3, timeout: 3000 }));
    assertEndsAtHopOne(hops, host, false);
  });

  test(`a UDP trace to a closed port on ${host} ends with the target's port unreachable`, {
    skip: needsRoot,
    timeout: 8000,
  }, async () => {
    const probe = createSocket(host === '::1' ? 'udp6' : 'udp4');
    probe.bind(0, host);
    await once(probe, 'listening');
    const port = probe.address().port;
    probe.close();
    const hops = await hopsOf(await traceroute(host, { protocol: 'udp', port, queries: 2, timeout: 3000 }));
    assert.equal(hops.length, 1);
    assert.equal(hops[0]?.reached, true);
    assert.deepEqual(
      hops[0]?.probes.map((p) => [p.kind, p.address, p.mark]),
      [
        ['unreachable', host, ''],
        ['unreachable', host, ''],
      ],
    );
  });
}

test('every UDP probe of a trace has the same source port and length (one flow, Paris-style)', {
  skip: needsRoot,
  timeout: 8000,
}, async (t) => {
  const seen: Array<[number, number]> = [];
  const server = createSocket('udp4', (msg, peer) => {
    seen.push([peer.port, msg.length]);
    server.send('answer', peer.port, peer.address);
  });
  t.after(() => server.close());
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const hops = await hopsOf(
    await traceroute('127.0.0.1', {
      protocol: 'udp',
      port: server.address().port,
      queries: 3,
      timeout: 3000,
    }),
  );
  assert.deepEqual(
    hops[0]?.probes.map((p) => p.kind),
    ['reply', 'reply', 'reply'],
  );
  assert.equal(seen.length, 3);
  assert.equal(new Set(seen.map(([port, length]) => `${port}/${length}`)).size, 1, JSON.stringify(seen));
});

test('two TCP traces at once to one port each get only their own answers', {
  skip: needsRoot,
  timeout: 8000,
}, async () => {
  const port = await closedTcpPort('127.0.0.1');
  const [first, second] = await Promise.all([
    traceroute('127.0.0.1', { protocol: 'tcp', port, queries: 3, timeout: 3000 }).then(hopsOf),
    traceroute('127.0.0.1', { protocol: 'tcp', port, queries: 2, timeout: 3000 }).then(hopsOf),
  ]);
  assert.deepEqual(
    first[0]?.probes.map((p) => p.kind),
    ['reply', 'reply', 'reply'],
  );
  assert.deepEqual(
    second[0]?.probes.map((p) => p.kind),
    ['reply', 'reply'],
  );
});

test('port is refused for ICMP traces and out of range', async () => {
  await assert.rejects(traceroute('127.0.0.1', { port: 80 }), /port applies to tcp and udp/);
  await assert.rejects(traceroute('127.0.0.1', { protocol: 'tcp', port: 0 }), RangeError);
  await assert.rejects(traceroute('127.0.0.1', { protocol: 'udp', size: 1 }), RangeError);
});

// A raw TCP socket is handed every TCP segment on the host, and loopback segments reach 64 KiB:
// with the default buffer (208 KiB, three such segments) bulk traffic elsewhere on the host made
// the one RST a closed port sends be dropped, and the closed-port trace above read a timeout at hop
// 1 (one run in five of the suite under load). The socket now asks for 8 MiB.
test('a raw transport socket keeps room for a probe reply amid bulk loopback traffic (8 MiB receive buffer)', {
  skip: needsRoot,
  timeout: 8000,
}, async () => {
  const socket = await TransportSocket.open(4, 6);
  try {
    assert.ok(
      socket.receiveBufferSize() >= 8 * 1024 ** 2,
      `SO_RCVBUF is ${socket.receiveBufferSize()} bytes`,
    );
  } finally {
    socket.close();
  }
});
