/**
 * bench udp:// on PacketConn: its peers take the native batch path where the addon loaded, count
 * an ICMP port unreachable as refused on either path, and check every echoed byte.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { bench } from '../../src/bench/bench.js';
import { DatagramLoad } from '../../src/bench/datagram-load.js';
import type { LoadPlan } from '../../src/bench/load.js';
import { datagramPath } from '../../src/datagram/native-io.js';

/** udpEcho binds a dgram echo server on loopback (the plain Node one, so only bench's path is under test). */
async function udpEcho(): Promise<{ url: string; close: () => void }> {
  const server = createSocket('udp4');
  server.on('message', (message, peer) => server.send(message, peer.port, peer.address));
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  return { url: `udp://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** closedUdpPort returns a loopback UDP port nobody listens on (bound, then closed). */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function planFor(url: string, connections: number): LoadPlan {
  return {
    address: parseAddress(url),
    connections,
    firstConnection: 0,
    size: 64,
    depth: 1,
    batch: false,
    rate: 0,
    duration: 10_000,
    reconnect: false,
    lossTimeout: 1000,
    connectTimeout: 1000,
  };
}

test('every peer of a udp load takes the native batch path when the addon loaded', {
  timeout: 5000,
}, async () => {
  const echo = await udpEcho();
  const load = new DatagramLoad(planFor(echo.url, 3));
  try {
    assert.deepEqual(await load.connect(), { opened: 3 });
    assert.equal(load.batchedPeers, datagramPath().native ? 3 : 0);
  } finally {
    await load.stop();
    echo.close();
  }
});

test('a udp load against a closed port counts each ICMP port unreachable as refused', {
  timeout: 5000,
}, async () => {
  const port = await closedUdpPort();
  const report = await bench({
    address: parseAddress(`udp://127.0.0.1:${port}`),
    connections: 2,
    duration: 300,
    lossTimeout: 100,
  });
  assert.equal(report.messages, 0);
  assert.ok(report.errorsByKind.refused > 0, `refused ${report.errorsByKind.refused}`);
  assert.equal(report.errors, report.errorsByKind.refused);
});

test('a udp load with several datagrams in flight checks every echoed byte and loses none', {
  timeout: 5000,
}, async () => {
  const echo = await udpEcho();
  try {
    const report = await bench({
      address: parseAddress(echo.url),
      connections: 4,
      depth: 8,
      size: 200,
      duration: 400,
    });
    assert.ok(report.messages > 0);
    assert.deepEqual([report.mismatches, report.lost, report.duplicated, report.errors], [0, 0, 0, 0]);
  } finally {
    echo.close();
  }
});
