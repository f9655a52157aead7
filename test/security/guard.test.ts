/**
 * ConnectionGuard on real loopback sockets: each limit refuses or closes exactly what it should,
 * says so once per event, counts it, and a freed slot is reused.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { parseAddress } from '../../src/address.js';
import { AccessRules, parseCidr } from '../../src/security/access.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { ConnectionGuard, type ConnectionLimits } from '../../src/security/connection-guard.js';
import type { LimitEvent } from '../../src/security/limit-event.js';
import { echoStream } from '../../src/services/echo.js';
import type { Conn } from '../../src/stream/conn.js';
import { type Listener, listen } from '../../src/stream/listen.js';
import type { TlsServerOptions } from '../../src/stream/tls.js';
import { tempDir } from '../helpers.js';

interface Harness {
  listener: Listener;
  guard: ConnectionGuard;
  events: LimitEvent[];
  /** Server-side connections, in accept order. */
  accepted: Conn[];
  /** event resolves with the nth event (from 1) once the guard has reported it. */
  event(n: number): Promise<LimitEvent>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(url: string, limits: ConnectionLimits, tls?: TlsServerOptions): Promise<Harness> {
  const events: LimitEvent[] = [];
  const waiting: { n: number; resolve: (e: LimitEvent) => void }[] = [];
  const guard = new ConnectionGuard(limits, (e) => {
    events.push(e);
    for (const w of waiting.filter((w) => w.n === events.length)) w.resolve(e);
  });
  const event = (n: number) =>
    new Promise<LimitEvent>((resolve) => {
      const arrived = events[n - 1];
      if (arrived) resolve(arrived);
      else waiting.push({ n, resolve });
    });
  const listener = await listen(parseAddress(url), { guard, tls });
  const accepted: Conn[] = [];
  listener.handle((conn) => {
    accepted.push(conn);
    echoStream(conn);
  });
  cleanups.push(async () => {
    for (const conn of accepted) conn.close();
    await listener.close();
  });
  return { listener, guard, events, accepted, event };
}

function port(listener: Listener): number {
  const address = listener.address;
  assert.ok(address.scheme !== 'unix');
  return address.port;
}

/** open connects a raw client and resolves once connected. */
async function open(
  options: { port: number; host?: string; localAddress?: string } | { path: string },
): Promise<Socket> {
  const socket = connect(options as unknown as Parameters<typeof connect>[0]);
  cleanups.push(() => socket.destroy());
  socket.on('error', () => {});
  // A refused client may be reset before 'connect' is even reported: either way, hand it back.
  await new Promise((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return socket;
}

/** echoes resolves true if `socket` gets `text` echoed, false if it is reset or closed first. */
function echoes(socket: Socket, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(false);
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString();
      if (got === text) resolve(true);
    });
    socket.once('close', () => resolve(got === text));
    socket.write(text);
  });
}

describe('ConnectionGuard', { timeout: 8000 }, () => {
  test('--max-connections: the next client is reset at once, and a freed slot is reused', async () => {
    const h = await start('tcp://127.0.0.1:0', { maxConnections: 2 });
    const first = await open({ port: port(h.listener), host: '127.0.0.1' });
    const second = await open({ port: port(h.listener), host: '127.0.0.1' });
    assert.ok(await echoes(first, 'one'));
    assert.ok(await echoes(second, 'two'));
    const third = await open({ port: port(h.listener), host: '127.0.0.1' });
    const reset = new Promise<string | undefined>((resolve) => {
      third.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      third.once('close', () => resolve(undefined));
    });
    assert.equal(third.destroyed || (await reset) === 'ECONNRESET', true);
    assert.equal(h.guard.stats.refused['max-connections'], 1);
    assert.equal(h.events.length, 1);
    assert.equal(h.events[0]?.limit, 'max-connections');
    assert.equal(h.events[0]?.detail, 'refused: 2 connections open');
    assert.deepEqual(h.events[0]?.option, { name: 'maxConnections', value: 2 });
    // Free a slot: once the server has closed its side, a new client gets in.
    first.destroy();
    await h.accepted[0]?.closed;
    assert.equal(h.guard.open, 1);
    const fourth = await open({ port: port(h.listener), host: '127.0.0.1' });
    assert.ok(await echoes(fourth, 'four'));
    assert.equal(h.guard.stats.refused['max-connections'], 1);
  });

  test('--max-per-ip: one address is capped while another is still served', async () => {
    const h = await start('tcp://127.0.0.1:0', { maxPerIp: 1 });
    const p = port(h.listener);
    const a1 = await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.2' });
    assert.ok(await echoes(a1, 'a1'));
    const a2 = await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.2' });
    assert.equal(await echoes(a2, 'a2'), false);
    const b1 = await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.3' });
    assert.ok(await echoes(b1, 'b1'));
    assert.equal(h.guard.stats.refused['max-per-ip'], 1);
    assert.equal(h.events[0]?.detail, 'refused: 1 connection open from 127.0.0.2');
    assert.deepEqual(h.events[0]?.option, { name: 'maxPerIp', value: 1 });
    assert.match(h.events[0]?.peer ?? '', /^127\.0\.0\.2:\d+$/);
  });

  test('--allow/--deny: deny wins inside an allowed network; others are refused', async () => {
    const access = new AccessRules([parseCidr('127.0.0.0/8')], [parseCidr('127.0.0.2')]);
    const h = await start('tcp://127.0.0.1:0', { access });
    const p = port(h.listener);
    const denied = await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.2' });
    assert.equal(await echoes(denied, 'no'), false);
    const allowed = await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.3' });
    assert.ok(await echoes(allowed, 'yes'));
    assert.equal(h.guard.stats.refused.access, 1);
    assert.equal(h.events[0]?.detail, 'refused: 127.0.0.2 is not allowed');
    assert.deepEqual(h.events[0]?.option, { name: 'access' });
  });

  test('--allow on a dual-stack listener judges IPv4 peers by their IPv4 address, and refuses ::1', async () => {
    const access = new AccessRules([parseCidr('127.0.0.0/8')], []);
    const h = await start('tcp://[::]:0', { access });
    const p = port(h.listener);
    const v4 = await open({ port: p, host: '127.0.0.1' });
    assert.ok(await echoes(v4, 'mapped'));
    const v6 = await open({ port: p, host: '::1' });
    assert.equal(await echoes(v6, 'six'), false);
    assert.equal(h.guard.stats.refused.access, 1);
    assert.match(h.events[0]?.peer ?? '', /^\[::1\]:\d+$/);
  });

  test('--idle-timeout: traffic either way keeps a connection; silence closes it', async () => {
    const h = await start('tcp://127.0.0.1:0', { idleTimeout: 400 });
    const p = port(h.listener);
    const socket = await open({ port: p, host: '127.0.0.1' });
    const closed = once(socket, 'close');
    const peer = `127.0.0.1:${socket.localPort}`;
    let echoed = '';
    socket.on('data', (chunk: Buffer) => {
      echoed += chunk.toString();
    });
    /**
     * busyUntilSilentOneCloses keeps `socket` busy, one byte at a time, each step waiting for the
     * byte (or its echo) to arrive, until a silent connection opened at the start is closed for
     * idleness: the idle timeout has then passed for certain, with no gap in the traffic near it.
     * `step` sends one byte and resolves once it has arrived.
     */
    const busyUntilSilentOneCloses = async (step: () => Promise<void>): Promise<number> => {
      const silent = await open({ port: p, host: '127.0.0.1' });
      let timedOut = false;
      silent.once('close', () => {
        timedOut = true;
      });
      let steps = 0;
      // Bounded: a loopback round trip takes well under a millisecond, so 400 ms is far fewer.
      while (!timedOut) {
        await step();
        steps += 1;
        assert.ok(steps < 1_000_000, 'the silent connection was never closed');
      }
      return steps;
    };
    const echoOf = (text: string): Promise<void> =>
      new Promise((resolve) => {
        const want = echoed.length + text.length;
        const check = (): void => {
          if (echoed.length < want) return;
          socket.off('data', check);
          resolve();
        };
        socket.on('data', check);
        socket.write(text);
      });
    // The client talks and the server echoes.
    const dots = await busyUntilSilentOneCloses(() => echoOf('.'));
    assert.equal(h.guard.stats.timedOut.idle, 1);
    assert.equal(socket.destroyed, false);
    // Now only the server talks: a server-to-client stream also counts as traffic.
    const serverSide = h.accepted[0] as Conn;
    const esses = await busyUntilSilentOneCloses(
      () =>
        new Promise((resolve) => {
          socket.once('data', () => resolve());
          serverSide.write('s');
        }),
    );
    assert.equal(h.guard.stats.timedOut.idle, 2);
    assert.equal(socket.destroyed, false);
    await closed; // then silence: the server closes it
    assert.equal(echoed, `${'.'.repeat(dots)}${'s'.repeat(esses)}`);
    assert.equal(h.guard.stats.timedOut.idle, 3);
    assert.deepEqual(
      h.events.map((e) => e.limit),
      ['idle-timeout', 'idle-timeout', 'idle-timeout'],
    );
    assert.equal(h.events[2]?.peer, peer);
    assert.match(h.events[2]?.detail ?? '', /closed: idle for 400ms/);
  });

  test('a TLS client that never finishes its handshake is dropped after the handshake timeout', async () => {
    const { cert, key } = await selfSignedCertificate(['127.0.0.1']);
    const h = await start('tls://127.0.0.1:0', {}, { cert, key, handshakeTimeout: 300 });
    const staller = await open({ port: port(h.listener), host: '127.0.0.1' });
    staller.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, then nothing
    await once(staller, 'close');
    assert.equal(h.guard.stats.timedOut.handshake, 1);
    assert.equal(h.events[0]?.limit, 'handshake-timeout');
    assert.match(h.events[0]?.peer ?? '', /^127\.0\.0\.1:\d+$/);
  });

  test('--max-connections also holds on a Unix socket, where per-IP rules do not apply', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const path = join(dir.path, 'guarded.sock');
    const h = await start(`unix:${path}`, { maxConnections: 1, maxPerIp: 1 });
    const first = await open({ path });
    assert.ok(await echoes(first, 'unix one'));
    const second = await open({ path });
    assert.equal(await echoes(second, 'unix two'), false);
    assert.equal(h.guard.stats.refused['max-connections'], 1);
    assert.equal(h.events[0]?.peer, 'unix peer');
  });

  test('a limit that is not a positive whole number is a RangeError', () => {
    assert.throws(() => new ConnectionGuard({ maxConnections: 0 }), RangeError);
    assert.throws(() => new ConnectionGuard({ idleTimeout: 1.5 }), RangeError);
  });

  test('two guards in one process: a Unix server and a TCP server each keep their own accounting', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const path = join(dir.path, 'one.sock');
    const unix = await start(`unix:${path}`, { maxConnections: 1, maxPerIp: 1 });
    const tcp = await start('tcp://127.0.0.1:0', { maxConnections: 2, maxPerIp: 1 });
    const p = port(tcp.listener);
    assert.ok(await echoes(await open({ path }), 'unix one'));
    assert.ok(await echoes(await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.2' }), 'tcp one'));
    // The Unix server is full: its refusal is its own.
    assert.equal(await echoes(await open({ path }), 'unix two'), false);
    assert.equal(unix.guard.stats.refused['max-connections'], 1);
    assert.deepEqual(tcp.guard.stats.refused, {
      'max-connections': 0,
      'max-per-ip': 0,
      access: 0,
      emfile: 0,
    });
    assert.equal(tcp.events.length, 0);
    // The TCP server counts its own peers by address: one more from 127.0.0.2 is refused, 127.0.0.3 is not.
    assert.equal(
      await echoes(await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.2' }), 'no'),
      false,
    );
    assert.ok(await echoes(await open({ port: p, host: '127.0.0.1', localAddress: '127.0.0.3' }), 'tcp two'));
    assert.equal(tcp.guard.stats.refused['max-per-ip'], 1);
    assert.equal(unix.guard.stats.refused['max-per-ip'], 0);
    assert.deepEqual([unix.guard.open, tcp.guard.open], [1, 2]);
    assert.deepEqual(
      [unix.events.map((e) => `${e.limit} ${e.peer}`), tcp.events.map((e) => e.limit)],
      [['max-connections unix peer'], ['max-per-ip']],
    );
  });

  test('two guards in one process: a TLS server keeps its refusals and failed handshakes to itself, a TCP server beside it sees none', async () => {
    const { cert, key } = await selfSignedCertificate(['127.0.0.1']);
    const tls = await start('tls://127.0.0.1:0', { maxConnections: 1 }, { cert, key });
    const tcp = await start('tcp://127.0.0.1:0', { maxConnections: 1 });
    // A client that has not started its handshake holds the TLS server's one slot: the next is
    // refused, and the reset of that refused socket is not counted again as a failed handshake.
    const holder = await open({ port: port(tls.listener), host: '127.0.0.1' });
    const refused = await open({ port: port(tls.listener), host: '127.0.0.1' });
    assert.equal((await tls.event(1)).limit, 'max-connections');
    if (!refused.destroyed) await new Promise((resolve) => refused.once('close', resolve));
    // Then the holder speaks plaintext: a failed handshake, named by the peer's address.
    holder.write('GET / HTTP/1.0\r\n\r\n');
    const failed = await tls.event(2);
    assert.equal(failed.limit, 'handshake-failed');
    assert.equal(failed.detail, 'TLS handshake failed: the client does not speak TLS');
    assert.equal(failed.peer, `127.0.0.1:${holder.localPort}`);
    // The TCP server, alone in its guard, admits its one client as if nothing had happened.
    assert.ok(await echoes(await open({ port: port(tcp.listener), host: '127.0.0.1' }), 'tcp'));
    assert.equal(tls.guard.stats.handshakeFailed, 1);
    assert.equal(tls.guard.stats.refused['max-connections'], 1);
    assert.deepEqual(tcp.guard.stats, {
      refused: { 'max-connections': 0, 'max-per-ip': 0, access: 0, emfile: 0 },
      timedOut: { idle: 0, handshake: 0 },
      handshakeFailed: 0,
      emfilePauses: 0,
    });
    assert.deepEqual(tcp.events, []);
    assert.equal(tls.events.length, 2);
  });

  test('a client certificate the CA did not sign, or none, is refused in words that name clientCa, not a flag', async () => {
    const ca = await selfSignedCertificate(['sockkit test CA']);
    const server = await selfSignedCertificate(['127.0.0.1']);
    const stranger = await selfSignedCertificate(['stranger']);
    const h = await start('tls://127.0.0.1:0', {}, { cert: server.cert, key: server.key, clientCa: ca.cert });
    const client = (certificate?: { cert: string; key: string }) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: port(h.listener),
        rejectUnauthorized: false,
        ...certificate,
      });
      cleanups.push(() => socket.destroy());
      socket.on('error', () => {});
      return new Promise((resolve) => socket.once('close', resolve));
    };
    await client(stranger);
    const refused = await h.event(1);
    assert.equal(refused.limit, 'handshake-failed');
    assert.equal(
      refused.detail,
      'client certificate refused: self-signed, not signed by a trusted client CA',
    );
    assert.deepEqual(refused.option, { name: 'clientCa' });
    await client();
    const none = await h.event(2);
    assert.equal(none.detail, 'TLS handshake failed: no client certificate (the server requires one)');
    assert.deepEqual(none.option, { name: 'clientCa' });
    assert.equal(h.guard.stats.handshakeFailed, 2);
    for (const event of h.events) assert.doesNotMatch(event.detail, /--/);
  });
});
