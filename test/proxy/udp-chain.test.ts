import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { encodeSocks5Datagram } from '../../src/proxy/socks5-codec.js';
import { waitFor } from '../../src/wait.js';
import { freePort } from '../chat/redis-server.js';
import { type RunningProxy, type RunningUdpEcho, startProxy, startUdpEcho, udpAssociate } from './servers.js';

/** roundTrip sends three datagrams through the association at `proxyPort` and checks the echoes. */
async function roundTrip(proxyPort: number, echoPort: number): Promise<void> {
  const association = await udpAssociate(proxyPort);
  try {
    assert.equal(association.reply, 0, 'UDP ASSOCIATE succeeded');
    for (const text of ['one', 'two', 'three']) association.send(echoPort, text);
    const answers = await association.answers(3);
    assert.deepEqual(answers.map((a) => a.data.toString()).sort(), ['one', 'three', 'two']);
    for (const a of answers) assert.deepEqual([a.host, a.port, a.fragment], ['127.0.0.1', echoPort, 0]);
    association.control.end();
    await once(association.control, 'close');
  } finally {
    association.close();
  }
}

describe('UDP ASSOCIATE through an upstream --proxy', { timeout: 30_000 }, () => {
  let echo: RunningUdpEcho;
  let upstream: RunningProxy;
  before(async () => {
    echo = await startUdpEcho();
    upstream = await startProxy();
  });
  after(async () => {
    await upstream.stop();
    echo.stop();
  });

  test('carries datagrams through a SOCKS5 upstream (a second sockkit proxy) to a UDP echo and back', {
    timeout: 5000,
  }, async () => {
    const proxy = await startProxy({ proxy: [upstream.url()] });
    try {
      await roundTrip(proxy.url().port, echo.port);
      const event = await proxy.nextEvent();
      assert.equal(event.command, 'udp-associate');
      assert.equal(event.outcome, 'ok');
      assert.deepEqual([event.bytesUp, event.bytesDown], [11, 11]);
      // The upstream's association ends with ours: its control connection is closed behind us.
      const upstreamEvent = await upstream.nextEvent();
      assert.deepEqual([upstreamEvent.command, upstreamEvent.outcome], ['udp-associate', 'ok']);
      assert.deepEqual([upstreamEvent.bytesUp, upstreamEvent.bytesDown], [11, 11]);
    } finally {
      await proxy.stop();
    }
  });

  test('carries them through a chain of two SOCKS5 hops, one association each', {
    timeout: 5000,
  }, async () => {
    const last = await startProxy();
    const proxy = await startProxy({ proxy: [upstream.url(), last.url()] });
    try {
      await roundTrip(proxy.url().port, echo.port);
      assert.equal((await proxy.nextEvent()).outcome, 'ok');
      const atLast = await last.nextEvent();
      assert.deepEqual([atLast.command, atLast.bytesUp, atLast.bytesDown], ['udp-associate', 11, 11]);
      // The first hop carried the control connection to the last (a tunnel) and its own association.
      const atFirst = [await upstream.nextEvent(), await upstream.nextEvent()].map((e) => e.command).sort();
      assert.deepEqual(atFirst, ['connect', 'udp-associate']);
    } finally {
      await proxy.stop();
      await last.stop();
    }
  });

  test('ends the client association when the upstream ends its own', { timeout: 5000 }, async () => {
    const doomed = await startProxy();
    const proxy = await startProxy({ proxy: [doomed.url()] });
    const association = await udpAssociate(proxy.url().port);
    try {
      assert.equal(association.reply, 0);
      association.send(echo.port, 'ping');
      await association.answers(1);
      const closed = once(association.control, 'close');
      await doomed.stop();
      await closed;
      assert.equal((await proxy.nextEvent()).outcome, 'ended: the upstream proxy ended the association');
    } finally {
      association.close();
      await proxy.stop();
    }
  });

  test('refuses with "command not supported" (7) when a hop is HTTP, in one log line', {
    timeout: 5000,
  }, async () => {
    const proxy = await startProxy({ proxy: [upstream.url(), upstream.url('http')] });
    const association = await udpAssociate(proxy.url().port);
    try {
      assert.equal(association.reply, 7);
      const event = await proxy.nextEvent();
      assert.match(
        event.outcome,
        /^refused: UDP ASSOCIATE cannot go through http:\/\/127\.0\.0\.1:\d+ \(only SOCKS5 hops carry datagrams\)$/,
      );
    } finally {
      association.close();
      await proxy.stop();
    }
  });

  test("passes on an upstream's refusal: microsocks answers UDP ASSOCIATE with 7", {
    timeout: 8000,
  }, async () => {
    const port = await freePort();
    const microsocks: ChildProcess = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(port)], {
      stdio: 'ignore',
    });
    const proxy = await startProxy({ proxy: [{ protocol: 'socks5', host: '127.0.0.1', port }] });
    try {
      await waitFor([{ scheme: 'tcp', host: '127.0.0.1', port }], {
        timeout: 5000,
        minDelay: 20,
        maxDelay: 200,
      });
      const association = await udpAssociate(proxy.url().port);
      association.close();
      assert.equal(association.reply, 7);
      assert.equal(
        (await proxy.nextEvent()).outcome,
        'failed: upstream associate failed: proxy refused: command not supported',
      );
    } finally {
      await proxy.stop();
      const exited = once(microsocks, 'exit');
      microsocks.kill('SIGTERM');
      await exited;
    }
  });

  test('drops malformed, truncated, fragmented and foreign datagrams, and relays the next good one', {
    timeout: 8000,
  }, async () => {
    const proxy = await startProxy({ proxy: [upstream.url()] });
    const association = await udpAssociate(proxy.url().port);
    const stranger = createSocket('udp4');
    await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
    try {
      assert.equal(association.reply, 0);
      const before = echo.echoed;
      const good = encodeSocks5Datagram('127.0.0.1', echo.port, Buffer.from('good'));
      const bad = [
        Buffer.alloc(0),
        Buffer.from([0, 0]),
        Buffer.from([0, 0, 0, 1, 127, 0]), // truncated address
        Buffer.from([0, 1, 0, 1, 127, 0, 0, 1, 0, 7, 0x61]), // reserved bytes not 0
        Buffer.from([0, 0, 0, 9, 1, 2, 3]), // address type 9
        Buffer.from([0, 0, 0, 3, 0, 0, 7]), // empty name
        Buffer.concat([Buffer.from([0, 0, 1]), good.subarray(3)]), // a fragment
      ];
      for (const datagram of bad) association.udp.send(datagram, association.relayPort, '127.0.0.1');
      // Somebody else's datagram to the relay port: not the client's, so never relayed.
      stranger.send(good, association.relayPort, '127.0.0.1');
      // A bounded flood of garbage, small enough for the relay's receive buffer even when the
      // proxy is slow to read (each datagram costs the kernel about 1 KiB): a good datagram after
      // it must not be lost to the kernel. Then one good datagram.
      for (let i = 0; i < 50; i += 1)
        association.udp.send(Buffer.alloc(100, i), association.relayPort, '127.0.0.1');
      association.send(echo.port, 'good');
      const [answer] = await association.answers(1);
      assert.equal(answer?.data.toString(), 'good');
      assert.equal(echo.echoed - before, 1, 'only the good datagram reached the echo');
    } finally {
      stranger.close();
      association.close();
      await proxy.stop();
    }
  });
});
