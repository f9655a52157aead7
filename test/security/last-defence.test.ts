/**
 * The last line of defence: a service handler or a guard callback that throws on one connection
 * or datagram closes (or drops) that one only, reports it in one line, and never reaches the
 * process's uncaught-exception handler. An exception that escaped would fail these tests (node:test
 * charges an uncaught exception to the running test), and the server must go on serving others.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { ConnectionGuard } from '../../src/security/connection-guard.js';
import { DatagramGuard } from '../../src/security/datagram-guard.js';
import type { LimitEvent } from '../../src/security/limit-event.js';
import { echoDatagram, echoStream } from '../../src/services/echo.js';
import type { Conn } from '../../src/stream/conn.js';
import { type AcceptGuard, listen } from '../../src/stream/listen.js';
import { serve } from '../../src/stream/serve.js';

/** exchange connects to `address`, sends `text`, half-closes, and resolves with all it got back ('' if closed at once). */
function exchange(address: InetAddress, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: address.host, port: address.port });
    let got = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString();
    });
    socket.once('connect', () => socket.end(text));
    socket.once('close', () => resolve(got));
  });
}

describe('the last line of defence', { timeout: 8000 }, () => {
  test('a stream service that throws on one connection closes that one, reports it once, and serves the rest', async (t) => {
    const controller = new AbortController();
    t.after(() => controller.abort());
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
    const events: LimitEvent[] = [];
    let calls = 0;
    const served = serve(
      [listener],
      (conn: Conn) => {
        calls += 1;
        if (calls % 2 === 0) throw new TypeError(`handler bug on connection ${calls}`);
        echoStream(conn);
      },
      { signal: controller.signal, grace: 1000, report: (e) => events.push(e) },
    );
    const address = listener.address as InetAddress;
    const replies: string[] = [];
    for (let i = 1; i <= 6; i++) replies.push(await exchange(address, `client ${i}`));
    assert.deepEqual(replies, ['client 1', '', 'client 3', '', 'client 5', '']);
    assert.equal(events.length, 3);
    assert.equal(events[0]?.limit, 'service-error');
    assert.match(events[0]?.peer ?? '', /^127\.0\.0\.1:\d+$/);
    assert.match(
      events[0]?.detail ?? '',
      /^closed: the service failed on this connection: handler bug on connection 2$/,
    );
    controller.abort();
    const summary = await served;
    assert.equal(summary.connections, 6);
    assert.equal(summary.forciblyClosed, 0);
  });

  test('a datagram service, or its admit gate, that throws drops that datagram only and reports it', async (t) => {
    const controller = new AbortController();
    t.after(() => controller.abort());
    const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal });
    const events: LimitEvent[] = [];
    const served = servePackets(
      [conn],
      (data, peer, socket) => {
        if (data.toString() === 'boom') throw new RangeError('service bug');
        echoDatagram(data, peer, socket);
      },
      {
        signal: controller.signal,
        admit: () => {
          if (events.length === 1) throw new Error('gate bug');
          return true;
        },
        report: (e) => events.push(e),
      },
    );
    const client = await dialPacket(conn.localAddress);
    try {
      await assert.rejects(client.request('boom', { timeout: 200, retries: 0 }), { code: 'ERR_NO_REPLY' });
      // The gate throws on the next datagram (after one event): dropped, and reported.
      await assert.rejects(client.request('gate', { timeout: 200, retries: 0 }), { code: 'ERR_NO_REPLY' });
      assert.equal((await client.request('fine')).data.toString(), 'fine');
    } finally {
      await client.close();
      controller.abort();
    }
    const summary = await served;
    assert.deepEqual(
      events.map((e) => [e.limit, e.detail]),
      [
        ['service-error', 'datagram dropped: the service failed on it: service bug'],
        ['service-error', 'datagram dropped: the service failed on it: gate bug'],
      ],
    );
    assert.equal(summary.dropped, 2);
  });

  test('a guard whose reporter throws still refuses the client it meant to, and the listener goes on', async (t) => {
    const guard = new ConnectionGuard({ maxConnections: 1 }, () => {
      throw new Error('reporter bug');
    });
    const controller = new AbortController();
    t.after(() => controller.abort());
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal, guard });
    const served = serve([listener], echoStream, { signal: controller.signal, grace: 1000 });
    const address = listener.address as InetAddress;
    const first = connect({ host: address.host, port: address.port });
    first.on('error', () => {});
    t.after(() => first.destroy());
    await once(first, 'connect');
    first.write('held');
    await once(first, 'data'); // admitted and echoing: it holds the one slot
    // The second is over the limit: the guard refuses it, and its reporter throws while it does.
    assert.equal(await exchange(address, 'second'), '');
    assert.equal(guard.stats.refused['max-connections'], 1);
    first.end();
    await once(first, 'close');
    assert.equal(await exchange(address, 'third'), 'third');
    controller.abort();
    await served;
  });

  test('an accept guard that throws closes that connection only; the next is admitted', async (t) => {
    let seen = 0;
    const guard: AcceptGuard = {
      watch: () => {},
      admit: () => {
        seen += 1;
        if (seen === 1) throw new Error('admit bug');
        return true;
      },
      accepted: () => {
        if (seen === 2) throw new Error('accepted bug');
      },
    };
    const controller = new AbortController();
    t.after(() => controller.abort());
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal, guard });
    const served = serve([listener], echoStream, { signal: controller.signal, grace: 1000 });
    const address = listener.address as InetAddress;
    assert.equal(await exchange(address, 'one'), '');
    assert.equal(await exchange(address, 'two'), '');
    assert.equal(await exchange(address, 'three'), 'three');
    controller.abort();
    const summary = await served;
    assert.equal(summary.connections, 1);
  });

  test('a DatagramGuard whose reporter throws still drops what it should', () => {
    const guard = new DatagramGuard({ maxPerIp: 1 }, () => {
      throw new Error('reporter bug');
    });
    assert.equal(guard.admit({ address: '10.0.0.1', port: 1 }), true);
    assert.equal(guard.admit({ address: '10.0.0.1', port: 1 }), false);
    assert.equal(guard.stats.dropped['max-per-ip'], 1);
  });
});
