/**
 * ConnectionGuard on real loopback sockets: each limit refuses or closes exactly what it should,
 * says so once per event, counts it, and a freed slot is reused.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { AccessRules, parseCidr } from '../../src/security/access.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { ConnectionGuard, type ConnectionLimits, type LimitEvent } from '../../src/security/guard.js';
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
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(url: string, limits: ConnectionLimits, tls?: TlsServerOptions): Promise<Harness> {
  const events: LimitEvent[] = [];
  const guard = new ConnectionGuard(limits, (e) => events.push(e));
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
  return { listener, guard, events, accepted };
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
    assert.match(h.events[0]?.detail ?? '', /refused: 2 connections open \(--max-connections 2\)/);
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
    assert.match(h.events[0]?.detail ?? '', /1 connections open from 127\.0\.0\.2 \(--max-per-ip 1\)/);
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
    assert.match(h.events[0]?.detail ?? '', /127\.0\.0\.2 is not allowed/);
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
    const socket = await open({ port: port(h.listener), host: '127.0.0.1' });
    const closed = once(socket, 'close');
    // Send something every 100 ms for 1 s: far more than the idle timeout in total.
    let echoed = '';
    socket.on('data', (chunk: Buffer) => {
      echoed += chunk.toString();
    });
    for (let i = 0; i < 10; i++) {
      socket.write('.');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(h.guard.stats.timedOut.idle, 0);
    assert.equal(socket.destroyed, false);
    // Now only the server talks: a server-to-client stream also counts as traffic.
    const serverSide = h.accepted[0] as Conn;
    for (let i = 0; i < 6; i++) {
      serverSide.write('s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(h.guard.stats.timedOut.idle, 0);
    await closed; // then silence: the server closes it
    assert.equal(echoed, `${'.'.repeat(10)}${'s'.repeat(6)}`);
    assert.equal(h.guard.stats.timedOut.idle, 1);
    assert.equal(h.events[0]?.limit, 'idle-timeout');
    assert.match(h.events[0]?.detail ?? '', /closed: idle for 400ms/);
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
});
