import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { parseAddress, type WebSocketAddress } from '../../src/address.js';
import { FrameTooLargeError, ProtocolError, SchemeError, TimeoutError, TlsError } from '../../src/errors.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { dialWebSocket } from '../../src/websocket/dial-websocket.js';
import { listenWebSocket } from '../../src/websocket/listen-websocket.js';
import { startEcho, wsServer } from './servers.js';

const wsAddress = (url: string): WebSocketAddress => parseAddress(url) as WebSocketAddress;

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

describe('WebSocketConn', () => {
  test('a message comes back with its boundary and its type, text or binary', BOUND, async () => {
    const server = await startEcho();
    const conn = await dialWebSocket(server.address);
    try {
      await conn.send('héllo');
      await conn.send(Buffer.from([0, 1, 2, 255]));
      await conn.send('');
      const text = await conn.read();
      const binary = await conn.read();
      const empty = await conn.read();
      assert.deepEqual([text?.data.toString(), text?.binary], ['héllo', false]);
      assert.deepEqual([binary?.data, binary?.binary], [Buffer.from([0, 1, 2, 255]), true]);
      assert.deepEqual([empty?.data.length, empty?.binary], [0, false]);
      assert.equal(conn.messagesReceived, 3);
      assert.equal(conn.bytesSent, 6 + 4);
    } finally {
      await conn.close();
      await server.close();
    }
  });

  test('a client that sends and closes in one go still gets every echo before the close', BOUND, async () => {
    const server = await startEcho();
    try {
      for (let round = 0; round < 20; round += 1) {
        const client = new WebSocket(server.url);
        await once(client, 'open');
        const echoes: string[] = [];
        client.on('message', (data) => echoes.push(data.toString()));
        // One burst: both messages and the close frame reach the server in the same read.
        client.send('one');
        client.send('two');
        client.close(1000);
        await once(client, 'close');
        assert.deepEqual(echoes, ['one', 'two'], `round ${round}`);
      }
    } finally {
      await server.close();
    }
  });

  test('1 MiB messages, text and binary, come back byte for byte', BOUND, async () => {
    const server = await startEcho();
    const conn = await dialWebSocket(server.address);
    try {
      const binary = randomBytes(1 << 20);
      const text = 'ü'.repeat(1 << 19); // 1 MiB of UTF-8
      await conn.send(binary);
      await conn.send(text);
      const first = await conn.read();
      const second = await conn.read();
      assert.ok(first?.binary && first.data.equals(binary));
      assert.ok(second && !second.binary && second.data.toString() === text);
    } finally {
      await conn.close();
      await server.close();
    }
  });

  test('close codes and reasons reach the other side, both ways', BOUND, async () => {
    const server = await startEcho();
    try {
      const client = await dialWebSocket(server.address);
      const accepted = await server.nextConn();
      await client.close(4001, 'done here');
      await accepted.closed;
      assert.equal(accepted.closeCode, 4001);
      assert.equal(accepted.closeReason, 'done here');
      assert.equal(client.closeCode, 4001, 'the server answers with the same code');

      const second = await dialWebSocket(server.address);
      const serverSide = await server.nextConn();
      await serverSide.close(1011, 'x'.repeat(200)); // cut to 123 bytes
      await second.closed;
      assert.equal(second.closeCode, 1011);
      assert.equal(second.closeReason, 'x'.repeat(123));
      assert.equal(await second.read(), undefined, 'a clean close ends the messages');
      assert.throws(() => second.close(1006), RangeError);
    } finally {
      await server.close();
    }
  });

  test(
    'a message over maxMessageSize closes that connection with 1009, and others carry on',
    BOUND,
    async () => {
      const server = await startEcho({ ws: { maxMessageSize: 1000 } });
      const big = await dialWebSocket(server.address);
      const fine = await dialWebSocket(server.address);
      try {
        const accepted = await server.nextConn();
        await big.send('y'.repeat(1001));
        await big.closed;
        assert.equal(big.closeCode, 1009);
        await accepted.closed;
        assert.ok(accepted.error instanceof FrameTooLargeError);
        assert.match(accepted.error.message, /exceeds the maximum of 1000 bytes/);
        await fine.send('z'.repeat(1000));
        assert.equal((await fine.read())?.data.length, 1000);
      } finally {
        await fine.close();
        await server.close();
      }
    },
  );

  test(
    'a page from another origin is refused with 403; an allowed origin and a non-browser client are not',
    BOUND,
    async () => {
      const server = await startEcho({ ws: { allowOrigins: ['https://app.example'] } });
      try {
        await assert.rejects(
          dialWebSocket(server.address, { ws: { origin: 'https://evil.example' } }),
          (err: unknown) =>
            err instanceof ProtocolError &&
            err.message === `connect ${server.url}: upgrade refused: HTTP 403 Forbidden`,
        );
        const allowed = await dialWebSocket(server.address, { ws: { origin: 'https://app.example' } });
        const plain = await dialWebSocket(server.address);
        await allowed.close();
        await plain.close();
      } finally {
        await server.close();
      }
    },
  );

  test('another path is refused with 404; the query does not matter', BOUND, async () => {
    const server = await startEcho();
    try {
      await assert.rejects(
        dialWebSocket(wsAddress(`ws://127.0.0.1:${server.port}/other`)),
        /upgrade refused: HTTP 404 Not Found/,
      );
      const withQuery = await dialWebSocket(wsAddress(`ws://127.0.0.1:${server.port}/echo?token=1`));
      await withQuery.close();
    } finally {
      await server.close();
    }
  });

  test('the server picks the first subprotocol the client offers that it speaks', BOUND, async () => {
    const server = await startEcho({ ws: { subprotocols: ['chat.v2', 'chat.v1'] } });
    try {
      const conn = await dialWebSocket(server.address, { ws: { subprotocols: ['chat.v1', 'chat.v2'] } });
      assert.equal(conn.protocol, 'chat.v1');
      assert.equal((await server.nextConn()).protocol, 'chat.v1');
      await conn.close();
      await assert.rejects(
        dialWebSocket(server.address, { ws: { subprotocols: ['mqtt'] } }),
        /the server accepted none of the subprotocols offered/,
      );
    } finally {
      await server.close();
    }
  });

  test('headers given to dialWebSocket reach the server', BOUND, async () => {
    const peer = await wsServer();
    try {
      const request = once(peer.server, 'connection');
      const conn = await dialWebSocket(wsAddress(`ws://127.0.0.1:${peer.port}/`), {
        ws: { headers: [['Authorization', 'Bearer t0k3n']], origin: 'http://localhost:3000' },
      });
      const [, req] = (await request) as [WebSocket, { headers: Record<string, string> }];
      assert.equal(req.headers.authorization, 'Bearer t0k3n');
      assert.equal(req.headers.origin, 'http://localhost:3000');
      await conn.close();
    } finally {
      await peer.close();
    }
  });

  test('a peer that stops answering pings is dropped after the dead-peer timeout', BOUND, async () => {
    // A ws server that does not answer pings: as a peer whose host vanished would not.
    const peer = await wsServer({ autoPong: false });
    try {
      const conn = await dialWebSocket(wsAddress(`ws://127.0.0.1:${peer.port}/`), {
        ws: { pingInterval: 100, pingTimeout: 200 },
      });
      const failure = conn.read();
      await assert.rejects(
        failure,
        (err: unknown) =>
          err instanceof TimeoutError &&
          /no answer to a ping within 200ms: the peer is gone \(dead-peer timeout\)/.test(err.message),
      );
      await conn.closed;
      assert.equal(conn.closeCode, 1006);
    } finally {
      await peer.close();
    }
  });

  test('a live peer keeps answering pings and the connection stays', BOUND, async () => {
    const server = await startEcho();
    try {
      const conn = await dialWebSocket(server.address, { ws: { pingInterval: 20, pingTimeout: 2000 } });
      let pongs = 0;
      conn.webSocket.on('pong', () => {
        pongs += 1;
      });
      while (pongs < 5) await once(conn.webSocket, 'pong');
      await conn.send('still here');
      assert.equal((await conn.read())?.data.toString(), 'still here');
      assert.equal(conn.error, undefined);
      await conn.close();
    } finally {
      await server.close();
    }
  });

  test('the server pings too, and drops a client that does not answer', BOUND, async () => {
    const server = await startEcho({ ws: { pingInterval: 100, pingTimeout: 200 } });
    try {
      const client = new WebSocket(server.url, { autoPong: false });
      await once(client, 'open');
      const accepted = await server.nextConn();
      const [code] = (await once(client, 'close')) as [number];
      assert.equal(code, 1006);
      await accepted.closed;
      assert.ok(accepted.error instanceof TimeoutError);
    } finally {
      await server.close();
    }
  });

  test('wss:// runs over TLS: a pinned certificate is accepted, an unknown one refused', BOUND, async () => {
    const cert = await selfSignedCertificate(['127.0.0.1']);
    const server = await startEcho({ tls: { cert: cert.cert, key: cert.key } }, 'wss://127.0.0.1:0/');
    const address = wsAddress(`wss://127.0.0.1:${server.port}/`);
    try {
      await assert.rejects(
        dialWebSocket(address),
        (err: unknown) => err instanceof TlsError && /self-signed certificate/.test(err.message),
      );
      const conn = await dialWebSocket(address, { tls: { fingerprint: cert.fingerprint } });
      await conn.send('secret');
      assert.equal((await conn.read())?.data.toString(), 'secret');
      await conn.close();
    } finally {
      await server.close();
    }
  });

  test('dial and listen name dialWebSocket and listenWebSocket for a ws:// address', BOUND, async () => {
    await assert.rejects(
      dial(parseAddress('ws://127.0.0.1:1/')),
      (err: unknown) => err instanceof SchemeError && /use dialWebSocket/.test(err.message),
    );
    await assert.rejects(listen(parseAddress('wss://127.0.0.1:0/')), /use listenWebSocket/);
  });

  test('a refused connection reads as connect ws://...: connection refused', BOUND, async () => {
    const server = await startEcho();
    const { port } = server;
    await server.close();
    await assert.rejects(
      dialWebSocket(wsAddress(`ws://127.0.0.1:${port}/x`)),
      (err: unknown) =>
        err instanceof Error && err.message === `connect ws://127.0.0.1:${port}/x: connection refused`,
    );
  });

  test('listenWebSocket refuses a malformed origin before binding', BOUND, async () => {
    await assert.rejects(
      listenWebSocket(wsAddress('ws://127.0.0.1:0/'), { ws: { allowOrigins: ['app.example'] } }),
      TypeError,
    );
  });
});
