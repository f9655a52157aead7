/**
 * Hostile datagrams on a SOCKS5 UDP association (udp-associate.ts, udp-chain.ts): the proxy runs
 * as its own process (`sockkit proxy`), since the defects found kill the process they run in,
 * and each test then checks that the association still carries a good datagram to a UDP echo
 * and back. RFC 1928 §7: a datagram that cannot be relayed is dropped, silently.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Running, startCli } from '../helpers.js';
import { startUdpEcho, type UdpAssociation, udpAssociate } from '../proxy/servers.js';

/** portOf reads the port of a `listening on URL` line's URL. */
function portOf(proxy: Running): number {
  return Number(new URL(proxy.urls[0] as string).port);
}

/** stillRelays sends a good datagram to the echo and resolves once its answer is back; rejects if `proxy` exits first. */
async function stillRelays(association: UdpAssociation, echoPort: number, proxy: Running): Promise<void> {
  association.send(echoPort, 'still there?');
  const answers = await Promise.race([
    association.answers(1),
    proxy.done.then((result) => {
      throw new Error(
        `the proxy exited (${result.code}): ${result.stderr.split('\n').slice(-12).join('\n')}`,
      );
    }),
  ]);
  assert.equal(answers[0]?.data.toString(), 'still there?');
}

/** datagram builds `RSV RSV FRAG ATYP ADDR PORT DATA` from its parts, as a hostile client would. */
function datagram(address: Buffer, port: number, data = 'x'): Buffer {
  return Buffer.concat([
    Buffer.from([0, 0, 0]),
    address,
    Buffer.from([port >> 8, port & 0xff]),
    Buffer.from(data),
  ]);
}

test('a datagram for port 0 is dropped, and the proxy goes on relaying', {
  timeout: 10_000,
}, async () => {
  const echo = await startUdpEcho();
  const proxy = await startCli(['proxy', 'socks5://127.0.0.1:0']);
  const association = await udpAssociate(portOf(proxy));
  try {
    assert.equal(association.reply, 0);
    association.udp.send(datagram(Buffer.from([1, 127, 0, 0, 1]), 0), association.relayPort, '127.0.0.1');
    await stillRelays(association, echo.port, proxy);
  } finally {
    association.close();
    echo.stop();
    await proxy.stop();
  }
});

test('through an upstream SOCKS5 hop, a 255-byte name of bytes past 0x7f is dropped or passed on, and the proxy goes on relaying', {
  timeout: 10_000,
}, async () => {
  const echo = await startUdpEcho();
  const upstream = await startCli(['proxy', 'socks5://127.0.0.1:0']);
  const proxy = await startCli([
    'proxy',
    'socks5://127.0.0.1:0',
    '--proxy',
    `socks5://127.0.0.1:${portOf(upstream)}`,
  ]);
  const association = await udpAssociate(portOf(proxy));
  try {
    assert.equal(association.reply, 0);
    const name = Buffer.concat([Buffer.from([3, 255]), Buffer.alloc(255, 0xff)]);
    association.udp.send(datagram(name, 7), association.relayPort, '127.0.0.1');
    await stillRelays(association, echo.port, proxy);
  } finally {
    association.close();
    echo.stop();
    await proxy.stop();
    await upstream.stop();
  }
});

test('what holds: truncated headers, FRAG≠0, an empty name, an unknown address type and a name cut short are dropped', {
  timeout: 10_000,
}, async () => {
  const echo = await startUdpEcho();
  const proxy = await startCli(['proxy', 'socks5://127.0.0.1:0']);
  const association = await udpAssociate(portOf(proxy));
  try {
    const hostile = [
      Buffer.alloc(0),
      Buffer.from([0, 0, 0]),
      Buffer.from([0, 0, 0, 1, 127, 0]),
      Buffer.from([0, 0, 1, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 0xff, 0x41]),
      Buffer.from([0, 0, 0, 3, 0, 0, 7]),
      Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 0, 7]),
      Buffer.concat([Buffer.from([0, 0, 0, 3, 255]), Buffer.alloc(200, 0x61)]),
      Buffer.from([1, 0, 0, 1, 127, 0, 0, 1, echo.port >> 8, echo.port & 0xff]),
    ];
    for (const bytes of hostile) association.udp.send(bytes, association.relayPort, '127.0.0.1');
    await stillRelays(association, echo.port, proxy);
    // Only the good datagram reached the echo: FRAG 1 and reserved bytes not 0 were not relayed.
    assert.equal(echo.echoed, 1);
  } finally {
    association.close();
    echo.stop();
    await proxy.stop();
  }
});
