/**
 * forward with a WebSocket on either side, read as a specification: what websockify does (a ws://
 * listener to a TCP target) and the reverse (a TCP listener to a ws:// target), byte-exact, with
 * each end mapped: a FIN to a close (1000) after the data, a close to a FIN.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { before, describe, test } from 'node:test';
import { type WebSocket as PeerSocket, WebSocket, WebSocketServer } from 'ws';
import { formatAddress, type InetAddress, parseAddress, type SocketAddress } from '../../src/address.js';
import { parseEndpoint } from '../../src/bridge/endpoint.js';
import { type ForwardOptions, forward } from '../../src/bridge/forward.js';
import { type Certificate, selfSignedCertificate } from '../../src/security/certificate.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { MiB } from '../../src/units.js';
import { startEcho } from '../websocket/servers.js';
import { echoTarget, exchange, readAll, sha256 } from './peers.js';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

let cert: Certificate;
before(async () => {
  cert = await selfSignedCertificate(['127.0.0.1']);
});

/** start runs a forward from `listenUrl` to `targetUrl`; `stop` aborts it and resolves with its summary. */
async function start(listenUrl: string, targetUrl: string, options: Partial<ForwardOptions> = {}) {
  const controller = new AbortController();
  const forwarder = await forward(parseAddress(listenUrl), [parseEndpoint(targetUrl)], {
    signal: controller.signal,
    ...options,
  });
  const address = forwarder.addresses[0] as SocketAddress;
  return {
    address,
    url: formatAddress(address),
    stop: () => {
      controller.abort();
      return forwarder.done;
    },
  };
}

/** open connects a `ws` client (a WebSocket peer nobody here wrote) and waits for the upgrade. */
async function open(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<PeerSocket> {
  const ws = new WebSocket(url, options);
  await once(ws, 'open');
  return ws;
}

/** closeOf resolves with the close code `ws` sees. */
function closeOf(ws: PeerSocket): Promise<number> {
  return once(ws, 'close').then(([code]) => code as number);
}

describe('forward ws:// to tcp:// (websockify)', () => {
  test(
    '16 MiB of random bytes in binary messages come back byte-exact through a TCP echo',
    BOUND,
    async () => {
      const target = await echoTarget('tcp://127.0.0.1:0');
      const fwd = await start('ws://127.0.0.1:0/', formatAddress(target.address));
      const data = randomBytes(16 * MiB);
      const ws = await open(fwd.url);
      const hash = createHash('sha256');
      let received = 0;
      const all = new Promise<void>((resolve) => {
        ws.on('message', (chunk: Buffer, binary: boolean) => {
          assert.equal(binary, true);
          hash.update(chunk);
          received += chunk.length;
          if (received >= data.length) resolve();
        });
      });
      // Send in 64 KiB messages, eight in flight at most (as a page watching bufferedAmount would).
      const inFlight: Promise<void>[] = [];
      for (let at = 0; at < data.length; at += 64 * 1024) {
        inFlight.push(new Promise((resolve) => ws.send(data.subarray(at, at + 64 * 1024), () => resolve())));
        if (inFlight.length >= 8) await inFlight.shift();
      }
      await all;
      assert.equal(received, data.length);
      assert.equal(hash.digest('hex'), sha256(data));
      const code = closeOf(ws);
      ws.close(1000);
      assert.equal(await code, 1000);
      const summary = await fwd.stop();
      assert.equal(summary.clients, 1);
      assert.equal(summary.bytesToTargets, data.length);
      assert.equal(summary.bytesToClients, data.length);
      await target.close();
    },
  );

  test('a text message is carried as its UTF-8 bytes', BOUND, async () => {
    const target = await listen(parseAddress('tcp://127.0.0.1:0'));
    const fwd = await start('ws://127.0.0.1:0/', formatAddress(target.address));
    const ws = await open(fwd.url);
    ws.send('wörld ✓');
    ws.close(1000);
    const conn = await target.accept();
    const read = await readAll(conn);
    assert.equal(read.digest, sha256(Buffer.from('wörld ✓')));
    conn.close();
    await fwd.stop();
    await target.close();
  });

  test('a close from the browser reaches the target as a FIN, after every message', BOUND, async () => {
    const target = await listen(parseAddress('tcp://127.0.0.1:0'));
    const fwd = await start('ws://127.0.0.1:0/', formatAddress(target.address));
    const ws = await open(fwd.url);
    const parts = [randomBytes(100_000), randomBytes(3), randomBytes(700_000)];
    for (const part of parts) ws.send(part);
    ws.close(1000, 'done');
    const conn = await target.accept();
    // readAll resolves at EOF only: a reset would reject it.
    const read = await readAll(conn);
    assert.equal(read.digest, sha256(Buffer.concat(parts)));
    conn.close();
    await fwd.stop();
    await target.close();
  });

  test(
    'messages a browser sent before it closed, while its target was being reached, still reach it',
    BOUND,
    async () => {
      let browserClosed: () => void = () => {};
      const closed = new Promise<void>((resolve) => {
        browserClosed = resolve;
      });
      // A ws:// target that answers the upgrade only once the browser has come and gone.
      const server = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        verifyClient: (_info: unknown, done: (ok: boolean) => void) => void closed.then(() => done(true)),
      });
      await once(server, 'listening');
      const seen = new Promise<{ text: string; code: number }>((resolve) => {
        server.once('connection', (peer: PeerSocket) => {
          const chunks: Buffer[] = [];
          peer.on('message', (chunk: Buffer) => chunks.push(chunk));
          peer.once('close', (code: number) => resolve({ text: Buffer.concat(chunks).toString(), code }));
        });
      });
      const { port } = server.address() as { port: number };
      const fwd = await start('ws://127.0.0.1:0/', `ws://127.0.0.1:${port}/`);
      const ws = await open(fwd.url);
      ws.send('said before leaving');
      ws.close(1000);
      await closeOf(ws);
      browserClosed();
      assert.deepEqual(await seen, { text: 'said before leaving', code: 1000 });
      await fwd.stop();
      server.close();
    },
  );

  test('a FIN from the target reaches the browser as a close (1000), after its bytes', BOUND, async () => {
    const target = await listen(parseAddress('tcp://127.0.0.1:0'));
    target.handle((conn) => {
      conn.write(Buffer.from('bye now'));
      void conn.closeWrite();
    });
    const fwd = await start('ws://127.0.0.1:0/', formatAddress(target.address));
    const ws = await open(fwd.url);
    const chunks: Buffer[] = [];
    ws.on('message', (chunk: Buffer) => chunks.push(chunk));
    assert.equal(await closeOf(ws), 1000);
    assert.equal(Buffer.concat(chunks).toString(), 'bye now');
    const summary = await fwd.stop();
    assert.equal(summary.bytesToClients, 7);
    await target.close();
  });

  test('a browser that closes with an error code ends the target connection', BOUND, async () => {
    const target = await listen(parseAddress('tcp://127.0.0.1:0'));
    const fwd = await start('ws://127.0.0.1:0/', formatAddress(target.address));
    const ws = await open(fwd.url);
    ws.close(4001, 'bad');
    const conn = await target.accept();
    await readAll(conn).catch(() => {});
    conn.close();
    await fwd.stop();
    await target.close();
  });

  test(
    'wss:// with a TLS certificate, and a page of an origin not allowed is refused (403)',
    BOUND,
    async () => {
      const target = await echoTarget('tcp://127.0.0.1:0');
      const refused: string[] = [];
      const fwd = await start('wss://127.0.0.1:0/app', formatAddress(target.address), {
        tls: { cert: cert.cert, key: cert.key },
        ws: {
          allowOrigins: ['https://app.example.test'],
          report: (event) => refused.push(`${event.limit} ${event.detail}`),
        },
      });
      const ws = await open(fwd.url, { ca: cert.cert, origin: 'https://app.example.test' });
      ws.send('over tls');
      const [echoed] = (await once(ws, 'message')) as [Buffer];
      assert.equal(echoed.toString(), 'over tls');
      ws.close();
      const evil = new WebSocket(fwd.url, { ca: cert.cert, origin: 'https://evil.example.test' });
      evil.on('error', () => {});
      const [, response] = (await once(evil, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(response.statusCode, 403);
      evil.terminate();
      assert.match(refused.join('\n'), /handshake-failed refused: origin "https:\/\/evil\.example\.test"/);
      const summary = await fwd.stop();
      assert.equal(summary.clients, 1);
      await target.close();
    },
  );
});

describe('forward tcp:// to ws:// (a WebSocket service to plain TCP clients)', () => {
  test(
    '16 MiB of random bytes come back byte-exact through a WebSocket echo, both ways at once',
    BOUND,
    async () => {
      const echo = await startEcho();
      const fwd = await start('tcp://127.0.0.1:0', echo.url);
      const data = randomBytes(16 * MiB);
      const conn = await dial(fwd.address);
      const received = await exchange(conn, data);
      assert.equal(received.length, data.length);
      assert.equal(received.digest, sha256(data));
      const summary = await fwd.stop();
      assert.equal(summary.bytesToTargets, data.length);
      assert.equal(summary.bytesToClients, data.length);
      await echo.close();
    },
  );

  test(
    'a FIN from the TCP client is a close (1000) after its bytes, each chunk a binary message',
    BOUND,
    async () => {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await once(server, 'listening');
      const seen = new Promise<{ bytes: Buffer; binary: boolean; code: number }>((resolve) => {
        server.once('connection', (peer: PeerSocket) => {
          const chunks: Buffer[] = [];
          let binary = true;
          peer.on('message', (chunk: Buffer, isBinary: boolean) => {
            chunks.push(chunk);
            binary &&= isBinary;
          });
          peer.once('close', (code: number) => resolve({ bytes: Buffer.concat(chunks), binary, code }));
        });
      });
      const { port } = server.address() as { port: number };
      const fwd = await start('tcp://127.0.0.1:0', `ws://127.0.0.1:${port}/feed`);
      const conn = await dial(fwd.address);
      const data = randomBytes(300_000);
      await conn.send(data);
      await conn.closeWrite();
      const { bytes, binary, code } = await seen;
      assert.equal(sha256(bytes), sha256(data));
      assert.equal(binary, true);
      assert.equal(code, 1000);
      // The WebSocket's close is the end of what comes back: the client reads EOF.
      const back = await readAll(conn);
      assert.equal(back.length, 0);
      conn.close();
      await fwd.stop();
      server.close();
    },
  );

  test(
    'a close from the WebSocket server reaches the TCP client as EOF, after its messages',
    BOUND,
    async () => {
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await once(server, 'listening');
      server.on('connection', (peer: PeerSocket) => {
        peer.send('text first, ');
        peer.send(Buffer.from('then binary'));
        peer.close(1000, 'done');
      });
      const { port } = server.address() as { port: number };
      const fwd = await start('tcp://127.0.0.1:0', `ws://127.0.0.1:${port}/`);
      const conn = await dial(fwd.address);
      const back = await readAll(conn);
      assert.equal(back.digest, sha256(Buffer.from('text first, then binary')));
      conn.close();
      await fwd.stop();
      server.close();
    },
  );

  test('a wss:// target is verified with the target TLS options, and carries the bytes', BOUND, async () => {
    const echo = await startEcho({ tls: { cert: cert.cert, key: cert.key } }, 'wss://127.0.0.1:0/echo');
    const url = `wss://127.0.0.1:${echo.port}/echo`;
    const fwd = await start('tcp://127.0.0.1:0', url, { targetTls: { ca: cert.cert } });
    const data = randomBytes(200_000);
    const received = await exchange(await dial(fwd.address), data);
    assert.equal(received.digest, sha256(data));
    await fwd.stop();
    // Without the CA the certificate is refused, and no client is forwarded.
    const events: string[] = [];
    const strict = await start('tcp://127.0.0.1:0', url, {
      onEvent: (event) => {
        if (event.type === 'no-target') events.push(...event.errors.map((e) => e.message));
      },
    });
    const refused = await dial(strict.address);
    assert.equal((await readAll(refused)).length, 0);
    refused.close();
    assert.equal((await strict.stop()).noTarget, 1);
    assert.match(events.join('\n'), /^connect wss:\/\/127\.0\.0\.1:\d+\/echo: .*certificate/);
    await echo.close();
  });

  test(
    'a ws:// target that refuses the upgrade is skipped, and a client none takes is closed',
    BOUND,
    async () => {
      const echo = await startEcho();
      const controller = new AbortController();
      const events: string[] = [];
      const forwarder = await forward(
        parseAddress('tcp://127.0.0.1:0'),
        [parseEndpoint(`ws://127.0.0.1:${echo.port}/nowhere`)],
        { signal: controller.signal, onEvent: (event) => events.push(event.type) },
      );
      const conn = await dial(forwarder.addresses[0] as InetAddress);
      assert.equal((await readAll(conn)).length, 0);
      conn.close();
      assert.deepEqual(events, ['no-target']);
      controller.abort();
      assert.equal((await forwarder.done).noTarget, 1);
      await echo.close();
    },
  );
});
