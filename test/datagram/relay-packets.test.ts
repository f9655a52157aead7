/**
 * relayPackets' contract: input cut into datagrams to the peer, datagrams to output, byte for
 * byte; which peer a bound socket answers; the end of input and linger; a slow output drops
 * rather than buffers; refusal; abort.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import {
  dialPacket,
  echoDatagram,
  listenPacket,
  type PacketConn,
  type PacketRelayEvent,
  parseAddress,
  relayPackets,
  servePackets,
} from '../../src/index.js';
import { unusedUdpPort } from '../interop/udp-peers.js';

/** startEcho runs a UDP echo server on loopback for one test. */
async function startEcho(url = 'udp://127.0.0.1:0') {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress(url), { signal: controller.signal });
  const served = servePackets([conn], echoDatagram, { signal: controller.signal });
  return {
    conn,
    stop: () => {
      controller.abort();
      return served;
    },
  };
}

/** sink is a Writable that keeps every chunk written to it, and tells when `until` bytes are in. */
function sink(): {
  output: Writable;
  chunks: Buffer[];
  bytes: () => Buffer;
  until: (n: number) => Promise<void>;
} {
  const chunks: Buffer[] = [];
  let size = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      size += chunk.length;
      for (const w of waiters.splice(0)) (size >= w.n ? w.resolve : () => waiters.push(w))();
      callback();
    },
  });
  return {
    output,
    chunks,
    bytes: () => Buffer.concat(chunks),
    until: (n) => new Promise((resolve) => (size >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

test('a connected socket carries 200 KB of binary input through an echo byte for byte, then lingers and stops', {
  timeout: 8000,
}, async () => {
  const echo = await startEcho('udp://[::1]:0');
  try {
    const conn = await dialPacket(echo.conn.localAddress);
    const input = new PassThrough();
    const { output, bytes } = sink();
    const data = randomBytes(200_000);
    const relayed = relayPackets(conn, input, output, { linger: 300 });
    input.end(data);
    const summary = await relayed;
    assert.deepEqual(bytes(), data);
    assert.ok(summary.datagramsSent >= 4, 'split into datagrams no larger than the limit');
    assert.equal(summary.bytesSent, data.length);
    assert.equal(summary.bytesReceived, data.length);
    assert.equal(summary.dropped, 0);
    await conn.closed; // the relay closed its socket
  } finally {
    await echo.stop();
  }
});

test('with lines, each line (its newline included) is one datagram, and the last needs none', {
  timeout: 5000,
}, async () => {
  const echo = await startEcho();
  try {
    const conn = await dialPacket(echo.conn.localAddress);
    const input = new PassThrough();
    const { output, chunks } = sink();
    const relayed = relayPackets(conn, input, output, { lines: true, linger: 300 });
    input.write('a\nb');
    input.end('b\nccc');
    const summary = await relayed;
    assert.deepEqual(
      chunks.map((c) => c.toString()),
      ['a\n', 'bb\n', 'ccc'],
    );
    assert.equal(summary.datagramsSent, 3);
    assert.equal(echo.conn.datagramsReceived, 3);
  } finally {
    await echo.stop();
  }
});

test('a connected socket whose peer is not there rejects with the ICMP refusal and closes', {
  timeout: 5000,
}, async () => {
  const port = await unusedUdpPort();
  const conn = await dialPacket(parseAddress(`udp://127.0.0.1:${port}`));
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relayPackets(conn, input, output, { linger: 5000 });
  input.end('hello\n');
  await assert.rejects(relayed, {
    name: 'ConnectionRefusedError',
    code: 'ERR_CONNECTION_REFUSED',
    message: `receive udp://127.0.0.1:${port}: connection refused`,
  });
  await conn.closed;
  assert.equal(input.listenerCount('data'), 0);
});

test('bound sockets wait for a peer before reading input, answer the first peer only, and ignore the others', {
  timeout: 5000,
}, async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const input = new PassThrough();
  const { output, bytes, until } = sink();
  const events: PacketRelayEvent[] = [];
  const controller = new AbortController();
  const relayed = relayPackets(server, input, output, {
    signal: controller.signal,
    onEvent: (e) => events.push(e),
  });
  input.write('for the first peer');
  assert.equal(input.readableLength, 'for the first peer'.length, 'input is not read before a peer');
  const first = await dialPacket(server.localAddress);
  const other = await dialPacket(server.localAddress);
  try {
    await first.send('hello');
    assert.equal((await first.read(3000))?.data.toString(), 'for the first peer');
    await until(5);
    await other.send('from another');
    await first.send('bye');
    await until(8);
    input.write('again');
    assert.equal((await first.read(3000))?.data.toString(), 'again');
    assert.equal(await other.read(100), undefined);
    controller.abort();
    const summary = await relayed;
    assert.equal(bytes().toString(), 'hellobye');
    assert.equal(summary.ignored, 1);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ignored'],
    );
    assert.equal(summary.datagramsReceived, 2);
    assert.equal(summary.datagramsSent, 2);
  } finally {
    await first.close();
    await other.close();
  }
});

test("peers: 'latest' takes every peer's datagrams and sends input to the peer heard from last", {
  timeout: 5000,
}, async () => {
  const server = await listenPacket(parseAddress('udp://[::1]:0'));
  const input = new PassThrough();
  const { output, until } = sink();
  const controller = new AbortController();
  const relayed = relayPackets(server, input, output, { signal: controller.signal, peers: 'latest' });
  const a = await dialPacket(server.localAddress);
  const b = await dialPacket(server.localAddress);
  try {
    await a.send('A1');
    await until(2);
    await b.send('B1');
    await until(4);
    input.write('to b');
    assert.equal((await b.read(3000))?.data.toString(), 'to b');
    await a.send('A2');
    await until(6);
    input.write('to a');
    assert.equal((await a.read(3000))?.data.toString(), 'to a');
    controller.abort();
    const summary = await relayed;
    assert.equal(summary.ignored, 0);
    assert.equal(summary.datagramsReceived, 3);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an output that does not keep up drops datagrams past outputLimit instead of buffering them', {
  timeout: 8000,
}, async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  // An output that never finishes a write: everything written waits in its buffer.
  const output = new Writable({ highWaterMark: 1024, write() {} });
  const events: PacketRelayEvent[] = [];
  const controller = new AbortController();
  const outputLimit = 64 * 1024;
  const relayed = relayPackets(server, new PassThrough(), output, {
    signal: controller.signal,
    outputLimit,
    onEvent: (e) => events.push(e),
  });
  const client = await dialPacket(server.localAddress);
  const datagram = Buffer.alloc(8192, 0x61);
  const sent = 200;
  // One datagram in flight at a time, so that the kernel drops none: every drop is the relay's.
  for (let i = 0; i < sent; i += 1) {
    const target = server.datagramsReceived + 1;
    await client.send(datagram);
    while (server.datagramsReceived < target) await once(server.socket, 'message');
  }
  await client.close();
  controller.abort();
  const summary = await relayed;
  assert.ok(output.writableLength <= outputLimit + datagram.length, `${output.writableLength} bytes held`);
  assert.ok(summary.dropped > 0);
  assert.equal(summary.datagramsReceived + summary.dropped + server.dropped, sent);
  assert.deepEqual(events, [{ type: 'output-full', limit: outputLimit }], 'told once');
  assert.throws(() => {
    (server as unknown as { dropped: number }).dropped = 0;
  }, TypeError);
});

test('aborting stops the relay, closes every socket and leaves no listener on input', {
  timeout: 5000,
}, async () => {
  const sockets: PacketConn[] = [
    await listenPacket(parseAddress('udp://127.0.0.1:0')),
    await listenPacket(parseAddress('udp://[::1]:0')),
  ];
  const input = new PassThrough();
  const { output, until } = sink();
  const controller = new AbortController();
  const relayed = relayPackets(sockets, input, output, { signal: controller.signal });
  const client = await dialPacket((sockets[1] as PacketConn).localAddress);
  await client.send('x');
  await until(1);
  controller.abort();
  const summary = await relayed;
  await Promise.all(sockets.map((s) => s.closed));
  assert.equal(summary.datagramsReceived, 1);
  assert.equal(input.listenerCount('data'), 0);
  assert.equal(input.listenerCount('end'), 0);
  assert.equal(input.isPaused(), true);
  await client.close();
});

test('a connected socket closed by its owner ends the relay', { timeout: 5000 }, async () => {
  const echo = await startEcho();
  try {
    const conn = await dialPacket(echo.conn.localAddress);
    const input = new PassThrough(); // never ends
    const { output } = sink();
    const relayed = relayPackets(conn, input, output);
    await conn.close();
    const summary = await relayed;
    assert.equal(summary.datagramsSent, 0);
  } finally {
    await echo.stop();
  }
});
