import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, test } from 'node:test';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { MAX_DATAGRAM_IPV4, MAX_DATAGRAM_IPV6 } from '../../src/datagram/limits.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import type { PacketConn } from '../../src/datagram/packet-conn.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { SockkitError } from '../../src/errors.js';
import { echoDatagram } from '../../src/services/echo.js';
import type { TraceEvent } from '../../src/trace.js';

/** startEcho runs the UDP echo service on `url` and returns its address and a stop function. */
async function startEcho(url: string) {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress(url), { signal: controller.signal });
  const served = servePackets([conn], echoDatagram, { signal: controller.signal });
  return {
    address: conn.localAddress,
    stop: () => {
      controller.abort();
      return served;
    },
  };
}

/** pattern fills `size` bytes with a pattern that shows any reordering or truncation. */
function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) data[i] = (i * 7 + (size % 251)) & 0xff;
  return data;
}

const families = [
  { name: 'IPv4', url: 'udp://127.0.0.1:0', max: MAX_DATAGRAM_IPV4 },
  { name: 'IPv6', url: 'udp://[::1]:0', max: MAX_DATAGRAM_IPV6 },
];

for (const { name, url, max } of families) {
  describe(`UDP echo over ${name}`, () => {
    test(`every sampled size from 0 to ${max} bytes comes back intact, as one datagram`, async () => {
      const echo = await startEcho(url);
      const client = await dialPacket(echo.address);
      const sizes = [0, 1, 2, 100, 512, 1024, 1232, 1452, 1472, 1473, 1500, 4096, 8192, 9000, 16_384];
      sizes.push(32_768, 65_000, 65_507, max - 1, max);
      try {
        for (const size of [...new Set(sizes)].filter((s) => s <= max)) {
          const sent = pattern(size);
          const reply = await client.request(sent, { timeout: 2000, retries: 2 });
          assert.equal(reply.data.length, size, `size ${size}`);
          assert.ok(reply.data.equals(sent), `size ${size}: bytes differ`);
        }
      } finally {
        await client.close();
        const summary = await echo.stop();
        assert.equal(summary.datagramsReceived, summary.datagramsSent);
      }
    });

    test(`a message of ${max + 1} bytes is refused as too large, never truncated`, async () => {
      const echo = await startEcho(url);
      const client = await dialPacket(echo.address);
      try {
        await assert.rejects(client.send(Buffer.alloc(max + 1)), (err: unknown) => {
          assert.ok(err instanceof SockkitError);
          assert.equal(err.code, 'ERR_MESSAGE_TOO_LARGE');
          assert.match(
            err.message,
            new RegExp(`^send udp://.*: message of ${max + 1} bytes .*\\(${max} bytes\\)`),
          );
          return true;
        });
        assert.throws(() => client.write(Buffer.alloc(max + 1)), { code: 'ERR_MESSAGE_TOO_LARGE' });
        assert.equal(client.datagramsSent, 0);
      } finally {
        await client.close();
        await echo.stop();
      }
    });
  });
}

test('many peers at once each get back exactly their own datagrams', async () => {
  const echo = await startEcho('udp://127.0.0.1:0');
  const peers = 40;
  const perPeer = 5;
  const clients = await Promise.all(Array.from({ length: peers }, () => dialPacket(echo.address)));
  try {
    await Promise.all(
      clients.map(async (client, p) => {
        for (let i = 0; i < perPeer; i += 1) {
          const message = `peer ${p} message ${i}`;
          const reply = await client.request(message, { timeout: 2000, retries: 3 });
          assert.equal(reply.data.toString(), message);
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    const summary = await echo.stop();
    assert.ok(summary.datagramsReceived >= peers * perPeer);
  }
});

test('datagrams keep their boundaries: three sends arrive as three reads, in order on loopback', async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(server.localAddress);
  try {
    for (const text of ['one', '', 'three']) await client.send(text);
    const got: string[] = [];
    for await (const { data, peer } of server) {
      got.push(data.toString());
      assert.equal(peer.port, client.localAddress.port);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['one', '', 'three']);
    assert.equal(server.datagramsReceived, 3);
    assert.equal(server.bytesReceived, 8);
  } finally {
    await client.close();
    await server.close();
  }
});

test('an unread queue past queueLimit drops new datagrams and counts them, holding only the limit', async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'), { queueLimit: 4 });
  const sender = createSocket('udp4');
  try {
    let arrived = 0;
    const all = new Promise<void>((resolve) =>
      server.socket.on('message', () => {
        arrived += 1;
        if (arrived === 10) resolve();
      }),
    );
    for (let i = 0; i < 10; i += 1) sender.send(`d${i}`, server.localAddress.port, '127.0.0.1');
    await all;
    assert.equal(server.dropped, 6);
    const first = await server.read();
    assert.equal(first?.data.toString(), 'd0');
  } finally {
    sender.close();
    await server.close();
  }
});

test('read with a timeout resolves undefined when nothing arrives, and a closed socket ends iteration', async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  assert.equal(await server.read(50), undefined);
  const reading = server.read();
  await server.close();
  assert.equal(await reading, undefined);
  await server.close(); // twice is harmless
  await assert.rejects(server.send('late', { address: '127.0.0.1', port: 9 }), SockkitError);
});

test('trace narrates created, bound, recv N bytes from PEER, sent N bytes to PEER, closed', async () => {
  const events: TraceEvent[] = [];
  const controller = new AbortController();
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'), {
    signal: controller.signal,
    trace: (e) => events.push(e),
  });
  const served = servePackets([server], echoDatagram, { signal: controller.signal });
  const client = await dialPacket(server.localAddress);
  await client.request('hello');
  await client.close();
  controller.abort();
  await served;
  const port = server.localAddress.port;
  const from = `127.0.0.1:${client.localAddress.port}`;
  assert.deepEqual(
    events.map((e) => [e.step, e.kind, e.address, e.bytes]),
    [
      ['created', 'udp4', undefined, undefined],
      ['bound', 'udp4', `127.0.0.1:${port}`, undefined],
      ['recv', 'udp4', from, 5],
      ['sent', 'udp4', from, 5],
      ['closed', 'udp4', undefined, undefined],
    ],
  );
});

test('binding a port another socket holds fails with ERR_ADDRESS_IN_USE naming the URL', async () => {
  const holder = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const url = `udp://127.0.0.1:${holder.localAddress.port}`;
  try {
    await assert.rejects(listenPacket(parseAddress(url)), (err: unknown) => {
      assert.ok(err instanceof SockkitError);
      assert.equal(err.code, 'ERR_ADDRESS_IN_USE');
      assert.equal(err.message, `listen ${url}: address already in use`);
      return true;
    });
  } finally {
    await holder.close();
  }
});

test('a stream address is not a datagram address: SchemeError, as for a datagram address given to dial', async () => {
  const wrongScheme = (op: string, url: string) => ({
    name: 'SchemeError',
    code: 'ERR_UNSUPPORTED_SCHEME',
    message: `${op} ${url}: tcp:// is not supported here (expected udp://)`,
  });
  await assert.rejects(
    listenPacket(parseAddress('tcp://127.0.0.1:0')),
    wrongScheme('listen', 'tcp://127.0.0.1:0'),
  );
  await assert.rejects(
    dialPacket(parseAddress('tcp://127.0.0.1:7')),
    wrongScheme('connect', 'tcp://127.0.0.1:7'),
  );
});

test('an aborted signal closes the socket', async () => {
  const controller = new AbortController();
  const conn: PacketConn = await listenPacket(parseAddress('udp://127.0.0.1:0'), {
    signal: controller.signal,
  });
  controller.abort();
  await conn.closed;
  assert.equal(await conn.read(), undefined);
});

test('[::] is dual-stack: an IPv4 peer reaches it as an IPv4-mapped address and gets its echo', async () => {
  const echo = await startEcho('udp://[::]:0');
  const client = await dialPacket({
    scheme: 'udp',
    host: '127.0.0.1',
    port: echo.address.port,
  } as InetAddress);
  try {
    const reply = await client.request(Buffer.alloc(MAX_DATAGRAM_IPV4, 0x61));
    assert.equal(reply.data.length, MAX_DATAGRAM_IPV4);
  } finally {
    await client.close();
    await echo.stop();
  }
});

test('a sender that outruns the kernel loses datagrams past sendQueueLimit instead of buffering them', async () => {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), { sendQueueLimit: 0 });
  try {
    conn.write('x', { address: '127.0.0.1', port: conn.localAddress.port });
    assert.equal(conn.dropped, 1);
    assert.equal(conn.datagramsSent, 0);
  } finally {
    await conn.close();
  }
});

test('write on a closed socket drops the datagram instead of throwing', async () => {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  await conn.close();
  conn.write('too late', { address: '127.0.0.1', port: 9 });
  assert.equal(conn.dropped, 1);
});

test('in flowing mode, onError hears an ICMP port unreachable as ERR_CONNECTION_REFUSED, and no read is left owing it', async () => {
  const closed = createSocket('udp4');
  await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
  const { port } = closed.address();
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const conn = await dialPacket(parseAddress(`udp://127.0.0.1:${port}`));
  try {
    const failure = new Promise<SockkitError>((resolve) => conn.onMessage(() => {}, resolve));
    conn.write('anyone?');
    const err = await failure;
    assert.ok(err instanceof SockkitError);
    assert.equal(err.code, 'ERR_CONNECTION_REFUSED');
    assert.equal(err.message, `receive udp://127.0.0.1:${port}: connection refused`);
    assert.equal(conn.error, undefined);
  } finally {
    await conn.close();
  }
});
