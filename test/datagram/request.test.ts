import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { request } from '../../src/datagram/request.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { SockkitError } from '../../src/errors.js';
import { echoDatagram } from '../../src/services/echo.js';
import { unusedUdpPort } from '../interop/udp-peers.js';

for (const host of ['127.0.0.1', '::1']) {
  test(`a port nobody serves on ${host} answers ICMP port unreachable: ERR_CONNECTION_REFUSED, at once`, async () => {
    const port = await unusedUdpPort(host);
    const address: InetAddress = { scheme: 'udp', host, port };
    const started = Date.now();
    await assert.rejects(request(address, 'anyone?', { timeout: 3000, retries: 2 }), (err: unknown) => {
      assert.ok(err instanceof SockkitError);
      assert.equal(err.code, 'ERR_CONNECTION_REFUSED');
      assert.match(err.message, /^send udp:\/\/.*: connection refused$/);
      assert.equal(err.errno, 'ECONNREFUSED');
      return true;
    });
    // Refusal is reported on the first attempt, long before the first 3 s timeout would expire.
    assert.ok(Date.now() - started < 2900);
  });
}

test('a peer that never answers gets every retry, then ERR_NO_REPLY, in bounded time', async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    await assert.rejects(
      request(silent.localAddress, 'hello?', { timeout: 100, retries: 2 }),
      (err: unknown) => {
        assert.ok(err instanceof SockkitError);
        assert.equal(err.code, 'ERR_NO_REPLY');
        assert.equal(
          err.message,
          `send udp://127.0.0.1:${silent.localAddress.port}: no reply after 3 attempts (100ms each)`,
        );
        return true;
      },
    );
    assert.equal(silent.datagramsReceived, 3, 'one send and two retries');
    const first = await silent.read(1000);
    assert.equal(first?.data.toString(), 'hello?');
  } finally {
    await silent.close();
  }
});

test('retries 0 means a single attempt', async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    await assert.rejects(request(silent.localAddress, 'x', { timeout: 50, retries: 0 }), {
      code: 'ERR_NO_REPLY',
      reason: 'no reply after 1 attempt (50ms each)',
    });
    assert.equal(silent.datagramsReceived, 1);
  } finally {
    await silent.close();
  }
});

test('a reply lost once is recovered by the retry', async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  let seen = 0;
  // Ignore the first datagram, as if it were lost on the way; answer the second.
  server.onMessage((data, peer) => {
    seen += 1;
    if (seen > 1) server.write(data, peer);
  });
  try {
    const reply = await request(server.localAddress, 'again', { timeout: 100, retries: 2 });
    assert.equal(reply.data.toString(), 'again');
    assert.equal(seen, 2);
  } finally {
    await server.close();
  }
});

test('a name is resolved, and an address that refuses gives way to the next', async () => {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal });
  const served = servePackets([conn], echoDatagram, { signal: controller.signal });
  try {
    // localhost may resolve to ::1 first, where nobody serves this port: that one refuses.
    const reply = await request(parseAddress(`udp://localhost:${conn.localAddress.port}`), 'by name', {
      family: 4,
    });
    assert.equal(reply.data.toString(), 'by name');
    const any = await request(parseAddress(`udp://localhost:${conn.localAddress.port}`), 'any family');
    assert.equal(any.data.toString(), 'any family');
  } finally {
    controller.abort();
    await served;
  }
});

test('an unknown host is ERR_HOST_NOT_FOUND naming the URL', async () => {
  await assert.rejects(request(parseAddress('udp://no-such-host.invalid:7'), 'x'), (err: unknown) => {
    assert.ok(err instanceof SockkitError);
    assert.equal(err.code, 'ERR_HOST_NOT_FOUND');
    assert.match(err.message, /^send udp:\/\/no-such-host\.invalid:7: /);
    return true;
  });
});

test('aborting a request in progress rejects with ERR_ABORTED', async () => {
  const silent = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(silent.localAddress);
  const controller = new AbortController();
  try {
    const pending = client.request('x', { timeout: 5000, retries: 5, signal: controller.signal });
    await silent.read(2000);
    controller.abort();
    await assert.rejects(pending, { code: 'ERR_ABORTED' });
  } finally {
    await client.close();
    await silent.close();
  }
});

test('request needs a connected socket and a sane retry count', async () => {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(conn.localAddress);
  try {
    await assert.rejects(conn.request('x'), TypeError);
    await assert.rejects(client.request('x', { retries: -1 }), RangeError);
  } finally {
    await client.close();
    await conn.close();
  }
});

test('a late reply to an earlier exchange is not taken as the answer to the next one', async () => {
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  const client = await dialPacket(server.localAddress);
  try {
    // The server answers the first request twice (say, a duplicate on the way), then each once.
    let count = 0;
    server.onMessage((data, peer) => {
      count += 1;
      server.write(data, peer);
      if (count === 1) server.write(Buffer.from('late duplicate'), peer);
    });
    assert.equal((await client.request('first')).data.toString(), 'first');
    if (client.datagramsReceived < 2) {
      await new Promise<void>((resolve) => client.socket.once('message', () => resolve()));
    }
    assert.equal((await client.request('second')).data.toString(), 'second');
    assert.equal(client.dropped, 1);
  } finally {
    await client.close();
    await server.close();
  }
});
