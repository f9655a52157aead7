/**
 * A WebSocket server under hostile clients: malformed upgrade requests, a client that never
 * finishes its request, one that sends without reading, limits. After each, the server still
 * serves a well-behaved client.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ConnectionGuard } from '../../src/security/connection-guard.js';
import type { LimitEvent } from '../../src/security/limit-event.js';
import { dialWebSocket } from '../../src/websocket/dial-websocket.js';
import { type EchoServer, rawExchange, startEcho } from './servers.js';

async function stillEchoes(server: EchoServer): Promise<void> {
  const conn = await dialWebSocket(server.address);
  await conn.send('ping');
  assert.equal((await conn.read())?.data.toString(), 'ping');
  await conn.close();
}

const upgrade = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Version: 13\r\n${extra}\r\n`;
const KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

describe('a WebSocket server under hostile clients', () => {
  test('malformed and wrong requests are answered and closed, one line reported each', BOUND, async () => {
    const events: LimitEvent[] = [];
    const server = await startEcho({ ws: { report: (e) => events.push(e) } });
    try {
      const cases: [string | Buffer, RegExp][] = [
        [
          Buffer.from([
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a,
          ]),
          /^HTTP\/1\.1 400 /,
        ],
        ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 426 Upgrade Required\r\nUpgrade: websocket/],
        [upgrade('/echo'), /^HTTP\/1\.1 400 /], // no Sec-WebSocket-Key
        [upgrade('/echo', `${KEY}`).replace('Version: 13', 'Version: 7'), /^HTTP\/1\.1 400 /],
        [upgrade('/elsewhere', KEY), /^HTTP\/1\.1 404 Not Found/],
        [upgrade('/echo', `${KEY}`).replace('Upgrade: websocket', 'Upgrade: h2c'), /^HTTP\/1\.1 400 /],
        [upgrade('/echo', `${KEY}Origin: https://evil.example\r\n`), /^HTTP\/1\.1 403 Forbidden/],
        [`GET /echo HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 4\d\d /],
        ['GET /ec\x00ho HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 /],
      ];
      for (const [request, expected] of cases) {
        const answer = await rawExchange(server.port, request);
        assert.match(answer, expected, JSON.stringify(String(request).slice(0, 60)));
      }
      assert.ok(events.filter((e) => e.limit === 'handshake-failed').length >= 6);
      for (const event of events)
        assert.ok(![0, 10, 13].some((c) => event.detail.includes(String.fromCharCode(c))));
      assert.equal(server.conns.length, 0, 'none of them became a WebSocket');
      await stillEchoes(server);
    } finally {
      await server.close();
    }
  });

  test(
    'a frame that breaks the protocol closes that client with 1002 and is kept as its error',
    BOUND,
    async () => {
      const server = await startEcho();
      try {
        // A valid upgrade, then a frame a client must never send: unmasked (RFC 6455 §5.1).
        const answer = await rawExchange(
          server.port,
          Buffer.concat([Buffer.from(upgrade('/echo', KEY)), Buffer.from([0x81, 0x02, 0x68, 0x69])]),
        );
        assert.match(answer, /^HTTP\/1\.1 101 Switching Protocols/);
        // The close frame: FIN + close opcode, then the code 1002 (protocol error).
        assert.ok(Buffer.from(answer, 'latin1').includes(Buffer.from([0x88, 0x02, 0x03, 0xea])), answer);
        const accepted = await server.nextConn();
        await accepted.closed;
        assert.equal(accepted.error?.code, 'ERR_PROTOCOL');
        assert.match(
          accepted.error?.message ?? '',
          /the peer broke the WebSocket protocol \(WS_ERR_EXPECTED_MASK\)/,
        );
        await stillEchoes(server);
      } finally {
        await server.close();
      }
    },
  );

  test('a client that never finishes its upgrade request is closed after upgradeTimeout', BOUND, async () => {
    const events: LimitEvent[] = [];
    const server = await startEcho({ ws: { upgradeTimeout: 300, report: (e) => events.push(e) } });
    try {
      const began = Date.now();
      const answer = await rawExchange(server.port, 'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      assert.equal(answer, '');
      assert.ok(Date.now() - began >= 250);
      assert.equal(events[0]?.limit, 'handshake-timeout');
      await stillEchoes(server);
    } finally {
      await server.close();
    }
  });

  test(
    'a client that sends without ever reading cannot make the server hold more than maxBuffered',
    BOUND,
    async () => {
      const maxBuffered = 64 << 10;
      const server = await startEcho({ ws: { maxBuffered } });
      const flooder = new WebSocket(server.url);
      try {
        await once(flooder, 'open');
        // Never read: the echoes pile up in the kernel's buffers, then in nobody's memory.
        (flooder as unknown as { _socket: { pause(): void } })._socket.pause();
        const accepted = await server.nextConn();
        const message = Buffer.alloc(256 << 10, 7);
        for (let i = 0; i < 128; i += 1) flooder.send(message); // 32 MiB
        // Wait until the server has stopped taking more (no progress across a round of its reads).
        let last = -1;
        while (accepted.bytesReceived !== last) {
          last = accepted.bytesReceived;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const held = accepted.bytesReceived - (accepted.bytesSent - accepted.bufferedAmount);
        assert.ok(accepted.bytesReceived < 32 << 20, 'the server stopped reading');
        assert.ok(
          held <= 2 * maxBuffered + 2 * message.length,
          `held ${held} bytes in memory (received ${accepted.bytesReceived})`,
        );
        assert.ok(accepted.bufferedAmount <= maxBuffered + message.length + 16);
        await stillEchoes(server);
        // Once the client reads again, every byte comes back.
        let echoed = 0;
        flooder.on('message', (data: Buffer) => {
          assert.ok(data.equals(message));
          echoed += data.length;
        });
        (flooder as unknown as { _socket: { resume(): void } })._socket.resume();
        while (echoed < 32 << 20) await once(flooder, 'message');
      } finally {
        flooder.terminate();
        await server.close();
      }
    },
  );

  test('every ConnectionGuard limit applies before any HTTP is parsed', BOUND, async () => {
    const events: LimitEvent[] = [];
    const guard = new ConnectionGuard({ maxConnections: 1, idleTimeout: 300, access: undefined }, (e) =>
      events.push(e),
    );
    const server = await startEcho({ guard });
    try {
      const first = await dialWebSocket(server.address);
      await assert.rejects(dialWebSocket(server.address), /reset|closed/);
      assert.equal(events[0]?.limit, 'max-connections');
      // Silence closes the upgraded connection too (ws turns the socket's timeout off; it is set again).
      await first.closed;
      assert.equal(first.closeCode, 1006);
      assert.equal(guard.stats.timedOut.idle, 1);
      await stillEchoes(server);
    } finally {
      await server.close();
    }
  });
});
