/**
 * The native datagram path (src/datagram/native-io.ts and the sockkit-udp-batch addon): sizes,
 * batches, errors, closing while datagrams are pending, and many sockets at once. The rest of
 * the datagram suite runs on this path by default and again on dgram (plain-path.test.ts).
 * Skipped, saying why, where the addon did not build.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6 } from '../../src/datagram/limits.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { datagramPath } from '../../src/datagram/native-io.js';
import type { PacketConn } from '../../src/datagram/packet-conn.js';
import { SockkitError } from '../../src/errors.js';
import { UDP_BATCH_MODULE, type UdpBatch, type UdpBatchModule } from '../../src/native-addon.js';
import { datagramHandle } from '../../src/node-internals.js';

const path = datagramPath();
const skip = path.native ? false : `native path unavailable: ${path.reason}`;
const options = { skip, timeout: 8000 };

function addon(): UdpBatchModule {
  return createRequire(import.meta.url)(UDP_BATCH_MODULE) as UdpBatchModule;
}

function bound(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const socket = createSocket(type);
  return new Promise((resolve) => socket.bind(0, host, () => resolve(socket)));
}

function pattern(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

test(
  'an untraced PacketConn takes the native path; a traced one, and SOCKKIT_NATIVE=0, take dgram',
  options,
  async () => {
    const plain = await listenPacket(parseAddress('udp://127.0.0.1:0'));
    const traced = await listenPacket(parseAddress('udp://127.0.0.1:0'), { trace: () => {} });
    try {
      assert.equal(plain.batched, true);
      assert.equal(traced.batched, false);
      assert.deepEqual(datagramPath({ SOCKKIT_NATIVE: '0' }), {
        native: false,
        reason: 'SOCKKIT_NATIVE=0',
      });
    } finally {
      await plain.close();
      await traced.close();
    }
  },
);

test(`the dgram socket's native handle is where node-internals looks for it (Node ${process.version})`, async () => {
  const socket = await bound('udp4', '127.0.0.1');
  try {
    const handle = datagramHandle(socket);
    assert.ok(handle, 'dgram no longer keeps its handle under the "state symbol" key with fd and recvStop');
    assert.ok(handle.fd >= 0);
  } finally {
    socket.close();
  }
  assert.equal(datagramHandle(createSocket('udp4')), undefined, 'an unbound socket has no descriptor');
});

for (const { family, url, max } of [
  { family: 4, url: 'udp://127.0.0.1:0', max: MAX_DATAGRAM_IPV4 },
  { family: 6, url: 'udp://[::1]:0', max: MAX_DATAGRAM_IPV6 },
]) {
  test(
    `sizes 0, 1 and ${max} bytes cross in one batch each way over IPv${family}, byte for byte`,
    options,
    async () => {
      const server = await listenPacket(parseAddress(url));
      const client = await dialPacket(server.localAddress);
      try {
        assert.ok(server.batched && client.batched);
        const sizes = [0, 1, 1472, max - 1, max];
        for (const [i, size] of sizes.entries()) client.write(pattern(size, i));
        for (const [i, size] of sizes.entries()) {
          const got = await server.read(4000);
          assert.ok(got, `datagram ${i} (${size} bytes) never came`);
          assert.equal(got.data.length, size);
          assert.ok(got.data.equals(pattern(size, i)), `datagram of ${size} bytes differs`);
          assert.equal(got.peer.port, client.localAddress.port);
          server.write(got.data, got.peer);
        }
        for (const [i, size] of sizes.entries()) {
          const back = await client.read(4000);
          assert.ok(back?.data.equals(pattern(size, i)), `echo of ${size} bytes differs`);
        }
        assert.throws(() => client.write(Buffer.alloc(max + 1)), { code: 'ERR_MESSAGE_TOO_LARGE' });
      } finally {
        await client.close();
        await server.close();
      }
    },
  );
}

test(
  'a burst arrives in batches of more than one datagram, every one intact and in order',
  options,
  async () => {
    const { UdpBatch } = addon();
    const receiver = await bound('udp4', '127.0.0.1');
    const sender = await bound('udp4', '127.0.0.1');
    const counts: number[] = [];
    const received: Buffer[] = [];
    const total = 100; // small enough for the default receive buffer (208 KiB) to hold them all
    let batch: UdpBatch | undefined;
    const all = new Promise<void>((resolve) => {
      batch = new UdpBatch(
        datagramHandle(receiver)?.fd ?? -1,
        64,
        16,
        (count, data, start) => {
          counts.push(count);
          const meta = new DataView((batch as UdpBatch).meta);
          let offset = start;
          for (let i = 0; i < count; i += 1) {
            const length = meta.getUint32(i * 96, true);
            received.push(Buffer.from(data.subarray(offset, offset + length)));
            offset += length;
          }
          assert.ok(offset <= data.length, 'the batch lies inside the buffer');
          if (received.length >= total) resolve();
        },
        (errno) => assert.fail(`unexpected error ${errno}`),
      );
    });
    datagramHandle(receiver)?.recvStop();
    try {
      // Sent while the receiver is not polled: by the time the loop looks, the kernel holds them all.
      for (let i = 0; i < total; i += 1)
        sender.send(pattern(i % 50, i), receiver.address().port, '127.0.0.1');
      await all;
      assert.equal(received.length, total);
      for (const [i, data] of received.entries()) assert.ok(data.equals(pattern(i % 50, i)), `datagram ${i}`);
      assert.ok(Math.max(...counts) > 1, `every wake-up brought one datagram: ${counts.join(',')}`);
      assert.ok(Math.max(...counts) <= 64, 'a batch never exceeds the ring');
    } finally {
      batch?.close();
      receiver.close();
      sender.close();
    }
  },
);

test(
  "sockets woken together are delivered in one pass: a reply written in it leaves without a flush, and a socket closed by another's handler hears nothing more",
  options,
  async () => {
    const { UdpBatch } = addon();
    const sender = await bound('udp4', '127.0.0.1');
    const receivers = await Promise.all(Array.from({ length: 4 }, () => bound('udp4', '127.0.0.1')));
    const batches: UdpBatch[] = [];
    const closed = new Set<UdpBatch>();
    let heardAfterClose = 0;
    let replied = false;
    // Bounded, so that a reply that never leaves fails the test instead of holding the sockets open.
    const reply = once(sender, 'message', { signal: AbortSignal.timeout(4000) }) as Promise<[Buffer]>;
    for (const receiver of receivers) {
      const batch: UdpBatch = new UdpBatch(
        datagramHandle(receiver)?.fd ?? -1,
        64,
        16,
        (_count, data, start) => {
          if (closed.has(batch)) heardAfterClose += 1;
          if (replied) return;
          replied = true;
          // No flush(): the delivery pass sends what its callbacks queued once it has delivered all.
          assert.ok(batch.enqueue(data.subarray(start, start + 32), sender.address().port, '127.0.0.1') > 0);
          for (const other of batches)
            if (other !== batch) {
              other.close();
              closed.add(other);
            }
        },
        (errno) => assert.fail(`unexpected error ${errno}`),
      );
      datagramHandle(receiver)?.recvStop();
      batches.push(batch);
    }
    try {
      for (const [i, receiver] of receivers.entries())
        sender.send(pattern(32, i), receiver.address().port, '127.0.0.1');
      const [echoed] = await reply;
      assert.ok(
        receivers.some((_, i) => echoed.equals(pattern(32, i))),
        'the reply is one of the datagrams, intact',
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(heardAfterClose, 0, 'a closed socket was handed a batch');
    } finally {
      for (const batch of batches) batch.close();
      for (const receiver of receivers) receiver.close();
      sender.close();
    }
  },
);

test('a buffer changed after write is sent as it was when written (bench reuses one)', options, async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(server.localAddress);
  try {
    assert.ok(client.batched, 'the client is on the native path');
    const scratch = Buffer.alloc(8);
    for (let i = 0; i < 20; i += 1) {
      scratch.writeUInt32BE(i, 0);
      scratch.writeUInt32BE(i * 7, 4);
      client.write(scratch); // all queued in this turn, sent together after it
    }
    for (let i = 0; i < 20; i += 1) {
      const data = (await server.read(4000))?.data;
      assert.equal(data?.readUInt32BE(0), i);
      assert.equal(data?.readUInt32BE(4), i * 7);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

test('writes of one turn leave in one flush, and all arrive', options, async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(server.localAddress);
  try {
    for (let i = 0; i < 100; i += 1) client.write(`m${i}`);
    assert.equal(client.datagramsSent, 100);
    const got: string[] = [];
    for (let i = 0; i < 100; i += 1) got.push((await server.read(4000))?.data.toString() ?? 'lost');
    assert.deepEqual(
      got,
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
  } finally {
    await client.close();
    await server.close();
  }
});

test('ICMP port unreachable on a connected socket is read as ERR_CONNECTION_REFUSED', options, async () => {
  const closed = await bound('udp4', '127.0.0.1');
  const port = closed.address().port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const client = await dialPacket(parseAddress(`udp://127.0.0.1:${port}`));
  try {
    assert.equal(client.batched, true);
    client.write('anyone?');
    await assert.rejects(client.read(4000), (err: unknown) => {
      assert.ok(err instanceof SockkitError);
      assert.equal(err.code, 'ERR_CONNECTION_REFUSED');
      assert.match(err.message, new RegExp(`^receive udp://127\\.0\\.0\\.1:${port}: connection refused`));
      return true;
    });
    // The socket keeps working after the error: a request is refused again, not hung.
    await assert.rejects(client.request('again', { timeout: 2000, retries: 0 }), {
      code: 'ERR_CONNECTION_REFUSED',
    });
  } finally {
    await client.close();
  }
});

test(
  'send to an IPv6 peer from an IPv4 socket, or a refused broadcast, rejects with the system error',
  options,
  async () => {
    const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
    try {
      await assert.rejects(conn.send('x', { address: '::1', port: 9 }), (err: unknown) => {
        assert.ok(err instanceof SockkitError);
        assert.match(err.message, /^send udp:\/\/\[::1\]:9: /);
        return true;
      });
      await assert.rejects(conn.send('x', { address: '255.255.255.255', port: 9 }), {
        code: 'ERR_PERMISSION_DENIED',
      });
    } finally {
      await conn.close();
    }
  },
);

test('a peer named on a connected socket is treated as dgram treats it: never reached', options, async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const other = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(server.localAddress);
  try {
    // dgram sends a write to the connected peer whatever peer it names, and refuses a send.
    client.write('written', { address: '127.0.0.1', port: other.localAddress.port });
    await assert.rejects(client.send('sent', { address: '127.0.0.1', port: other.localAddress.port }));
    assert.equal((await server.read(4000))?.data.toString(), 'written');
    assert.equal(await other.read(100), undefined, 'nothing reached the other socket');
  } finally {
    await client.close();
    await other.close();
    await server.close();
  }
});

test(
  'closing with sends queued and inside a receive handler frees everything; later writes are dropped',
  options,
  async () => {
    const before = openDescriptors();
    for (let round = 0; round < 20; round += 1) {
      const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
      const client = await dialPacket(server.localAddress);
      const handled = new Promise<void>((resolve) =>
        server.onMessage((data, peer) => {
          server.write(data, peer);
          void server.close(); // closing from inside the batch: the rest of the batch is not delivered
          server.write(data, peer);
          resolve();
        }),
      );
      for (let i = 0; i < 50; i += 1) client.write(Buffer.alloc(1000, i));
      await handled;
      await server.closed;
      await client.close(); // 50 queued writes may still be waiting: close sends or drops them
      client.write('late');
      assert.ok(client.dropped >= 1);
    }
    assert.ok(
      openDescriptors() <= before + 2,
      `descriptors leaked: ${before} before, ${openDescriptors()} after`,
    );
  },
);

test(
  'two hundred sockets at once each get their own datagrams, and close without leaking descriptors',
  options,
  async () => {
    const before = openDescriptors();
    const conns: PacketConn[] = [];
    try {
      for (let i = 0; i < 200; i += 1) conns.push(await listenPacket(parseAddress('udp://127.0.0.1:0')));
      assert.ok(conns.every((c) => c.batched));
      const sender = conns[0] as PacketConn;
      for (const [i, conn] of conns.entries())
        sender.write(`to ${i}`, { address: '127.0.0.1', port: conn.localAddress.port });
      for (const [i, conn] of conns.entries()) {
        const got = await conn.read(4000);
        assert.equal(got?.data.toString(), `to ${i}`);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    assert.ok(
      openDescriptors() <= before + 2,
      `descriptors leaked: ${before} before, ${openDescriptors()} after`,
    );
  },
);

test('the addon refuses what is not a UDP socket, bad batch sizes and non-byte data', options, async () => {
  const { UdpBatch } = addon();
  const noop = (): void => {};
  assert.throws(() => new UdpBatch(0, 64, 16, noop, noop), /not a UDP socket/); // stdin
  assert.throws(() => new UdpBatch(-1, 64, 16, noop, noop), /not a UDP socket/);
  const socket = await bound('udp4', '127.0.0.1');
  const fd = datagramHandle(socket)?.fd ?? -1;
  assert.throws(() => new UdpBatch(fd, 0, 16, noop, noop), RangeError);
  assert.throws(() => new UdpBatch(fd, 100_000, 16, noop, noop), RangeError);
  assert.throws(() => new UdpBatch(fd, 8, 0, noop, noop), RangeError);
  const batch = new UdpBatch(fd, 8, 2, noop, noop);
  try {
    assert.throws(() => batch.enqueue('text' as unknown as Uint8Array, 9, '127.0.0.1'), TypeError);
    assert.throws(
      () => batch.enqueue(new Uint16Array(4) as unknown as Uint8Array, 9, '127.0.0.1'),
      TypeError,
    );
    assert.equal(batch.enqueue(Buffer.alloc(65_528), 9, '127.0.0.1') < 0, true, 'oversize refused');
    assert.equal(batch.enqueue(Buffer.alloc(1), 9, 'not-an-ip') < -1000, true, 'a name goes elsewhere');
    assert.equal(
      batch.enqueue(Buffer.alloc(1), 70_000, '127.0.0.1') < -1000,
      true,
      'a bad port goes elsewhere',
    );
    assert.equal(batch.enqueue(Buffer.alloc(1), 9, '127.0.0.1'), 1);
    assert.equal(batch.enqueue(Buffer.alloc(1), 9, '127.0.0.1'), 2);
    assert.ok(batch.enqueue(Buffer.alloc(1), 9, '127.0.0.1') < 0, 'past the queue limit: refused');
  } finally {
    batch.close();
    batch.close();
    assert.ok(batch.enqueue(Buffer.alloc(1), 9, '127.0.0.1') < 0, 'closed: refused');
    socket.close();
  }
});
