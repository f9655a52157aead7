import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import type { PacketConn } from '../../src/datagram/packet-conn.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { echoDatagram } from '../../src/services/echo.js';
import { runCli } from '../helpers.js';
import { unusedUdpPort } from '../interop/udp-peers.js';

/** withEcho runs an in-process UDP echo server on `url` for the length of `body`. */
async function withEcho(url: string, body: (url: string) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress(url), { signal: controller.signal });
  const served = servePackets([conn], echoDatagram, { signal: controller.signal });
  const host = conn.localAddress.host.includes(':') ? `[${conn.localAddress.host}]` : conn.localAddress.host;
  try {
    await body(`udp://${host}:${conn.localAddress.port}`);
  } finally {
    controller.abort();
    await served;
  }
}

/** withSilent runs a UDP socket that receives and never answers. */
async function withSilent(body: (url: string, conn: PacketConn) => Promise<void>): Promise<void> {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    await body(`udp://127.0.0.1:${conn.localAddress.port}`, conn);
  } finally {
    await conn.close();
  }
}

for (const url of ['udp://127.0.0.1:0', 'udp://[::1]:0']) {
  test(`send ${url.replace(':0', '')} prints the reply to stdout, exit 0`, async () => {
    await withEcho(url, async (target) => {
      const result = await runCli(['send', target, 'Hello, world']);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      assert.equal(result.stdout.toString(), 'Hello, world');
    });
  });
}

test('send udp:// with an empty message sends a 0-byte datagram and gets one back', async () => {
  await withEcho('udp://127.0.0.1:0', async (target) => {
    const result = await runCli(['send', target, '', '--trace']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /\[client\] #\d+ sent 0 bytes to 127\.0\.0\.1:\d+\n.*recv 0 bytes from/s);
  });
});

test('send udp:// to a port nobody serves reports the ICMP refusal: exit 1, one line', async () => {
  const port = await unusedUdpPort();
  const result = await runCli(['send', `udp://127.0.0.1:${port}`, 'hello']);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `sockkit: send udp://127.0.0.1:${port}: connection refused (is a server listening there?)\n`,
  );
});

test('send udp:// to a silent peer retries, then says no reply: exit 1', async () => {
  await withSilent(async (target, conn) => {
    const result = await runCli(['send', target, 'anyone?', '--timeout', '100ms', '--retries', '3']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: send udp:\/\/127\.0\.0\.1:\d+: no reply after 4 attempts \(100ms each\) \(UDP/,
    );
    assert.equal(result.stderr.split('\n').length, 2, 'one line');
    assert.equal(conn.datagramsReceived, 4);
  });
});

test('send udp:// waits 1s per attempt and retries twice by default, so a silent peer costs about 3s', {
  timeout: 10_000,
}, async () => {
  await withSilent(async (target, conn) => {
    const started = Date.now();
    // 3 s by design, plus the start of a CLI on a busy machine: bound it well above that.
    const result = await runCli(['send', target, 'x', '--trace'], { timeout: 9500 });
    assert.equal(result.code, 1);
    assert.equal(conn.datagramsReceived, 3, result.stderr);
    assert.match(result.stderr, /no reply within 1s; retry 1 of 2\n.*retry 2 of 2/s);
    assert.match(result.stderr, /no reply after 3 attempts \(1s each\)/);
    assert.ok(Date.now() - started >= 2900);
  });
});

test('send udp:// with a message too large for a datagram fails before sending, exit 1', async () => {
  await withSilent(async (target, conn) => {
    const result = await runCli(['send', target, 'a'.repeat(65_508)]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: send udp:\/\/127\.0\.0\.1:\d+: message of 65508 bytes .* \(65507 bytes\); it is not truncated\n$/,
    );
    assert.equal(conn.datagramsReceived, 0);
  });
});

test('send udp:// rejects a group that is not multicast and a negative retry count, exit 2', async () => {
  const join = await runCli(['send', 'udp://127.0.0.1:7', 'x', '--join', '10.1.1.1']);
  assert.equal(join.code, 2);
  assert.equal(
    join.stderr,
    'sockkit: send: --join 10.1.1.1: not a multicast group (224.0.0.0/4 or ff00::/8)\n',
  );
  const retries = await runCli(['send', 'udp://127.0.0.1:7', 'x', '--retries', '-1']);
  assert.equal(retries.code, 2);
  const ttl = await runCli(['send', 'udp://239.1.1.1:7', 'x', '--multicast-ttl', '300']);
  assert.equal(ttl.code, 2);
});
