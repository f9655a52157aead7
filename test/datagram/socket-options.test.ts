import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { checkPacketOptions, isMulticast } from '../../src/datagram/socket-options.js';
import { UsageError } from '../../src/errors.js';
import { receiveOne } from '../socket-probe.js';

test('isMulticast knows 224.0.0.0/4 and ff00::/8 and nothing else', () => {
  for (const ip of ['224.0.0.1', '239.255.255.250', 'ff02::1', 'FF05::1:3']) assert.ok(isMulticast(ip), ip);
  for (const ip of ['223.255.255.255', '240.0.0.1', '127.0.0.1', '::1', 'fe80::1', 'example.com']) {
    assert.ok(!isMulticast(ip), ip);
  }
});

test('joining something that is not a multicast group is a usage error naming the option, not a flag', () => {
  assert.throws(
    () => checkPacketOptions('listen', { join: ['192.0.2.1'] }),
    (err: unknown) =>
      err instanceof UsageError &&
      err.option === 'join' &&
      err.message === 'listen: join 192.0.2.1: not a multicast group (224.0.0.0/4 or ff00::/8)',
  );
});

test('a multicast TTL outside 0-255 is a usage error', () => {
  assert.throws(() => checkPacketOptions('send', { multicastTtl: 256 }), UsageError);
  assert.throws(() => checkPacketOptions('send', { multicastTtl: -1 }), UsageError);
  checkPacketOptions('send', { multicastTtl: 0 });
});

test('a loopback socket can set broadcast, TTL and loopback and join a group, narrating each', async () => {
  const notes: string[] = [];
  const conn = await listenPacket(parseAddress('udp://0.0.0.0:0'), {
    broadcast: true,
    multicastTtl: 3,
    multicastLoopback: false,
    join: ['239.1.2.3'],
    multicastInterface: '127.0.0.1',
    trace: (e) => {
      if (e.step === 'note' && e.detail) notes.push(e.detail);
    },
  });
  await conn.close();
  assert.deepEqual(notes, [
    'broadcast enabled (SO_BROADCAST)',
    'multicast interface 127.0.0.1',
    'multicast TTL 3',
    'multicast loopback off',
    'joined multicast group 239.1.2.3',
  ]);
});

test('joining an IPv6 group on an IPv4 socket fails with one line naming the address', async () => {
  await assert.rejects(
    listenPacket(parseAddress('udp://127.0.0.1:0'), { join: ['ff02::1'] }),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /^listen udp:\/\/127\.0\.0\.1:0: /);
      return true;
    },
  );
});

test('receive and send buffer sizes reach the kernel (Linux reports them doubled)', async () => {
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), {
    receiveBufferSize: 65_536,
    sendBufferSize: 32_768,
  });
  try {
    assert.equal(conn.socket.getRecvBufferSize(), 131_072);
    assert.equal(conn.socket.getSendBufferSize(), 65_536);
  } finally {
    await conn.close();
  }
});

for (const host of ['127.0.0.1', '::1']) {
  test(`ttl sets the hops a unicast datagram may take, as the receiver sees them (${host})`, {
    timeout: 8000,
  }, async () => {
    const { port, report, stop } = await receiveOne(host);
    const url = `udp://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const conn = await dialPacket(parseAddress(url), { ttl: 7 });
    try {
      await conn.send('hops');
      assert.deepEqual({ ...(await report), port: 0 }, { ttl: 7, host, port: 0, data: 'hops' });
    } finally {
      stop();
      await conn.close();
    }
  });
}

test('a datagram client sent from localAddress and localPort: the receiver sees that source', {
  timeout: 8000,
}, async () => {
  const { port, report, stop } = await receiveOne('127.0.0.1');
  const holder = await listenPacket(parseAddress('udp://127.0.0.2:0'));
  const localPort = (holder.localAddress as InetAddress).port;
  await holder.close();
  const conn = await dialPacket(parseAddress(`udp://127.0.0.1:${port}`), {
    localAddress: '127.0.0.2',
    localPort,
  });
  try {
    await conn.send('from');
    const seen = await report;
    assert.deepEqual([seen.host, seen.port, seen.data], ['127.0.0.2', localPort, 'from']);
  } finally {
    stop();
    await conn.close();
  }
});

test('a ttl outside 1-255 and a local port outside 0-65535 are usage errors naming the option', async () => {
  assert.throws(() => checkPacketOptions('send', { ttl: 0 }), { code: 'ERR_USAGE', option: 'ttl' });
  assert.throws(() => checkPacketOptions('send', { ttl: 256 }), { code: 'ERR_USAGE', option: 'ttl' });
  await assert.rejects(dialPacket(parseAddress('udp://127.0.0.1:9'), { localPort: -1 }), {
    code: 'ERR_USAGE',
    option: 'localPort',
  });
});
