import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import { echoStream } from '../../src/services/echo.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { type ServeSummary, serve } from '../../src/stream/serve.js';
import { tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

/** startEcho runs the echo service on `url` and returns its address and a stop function. */
async function startEcho(url: string, grace = 2000) {
  const controller = new AbortController();
  const listener = await listen(parseAddress(url), { signal: controller.signal });
  const served = serve([listener], echoStream, { signal: controller.signal, grace });
  return {
    address: listener.address,
    stop: (): Promise<ServeSummary> => {
      controller.abort();
      return served;
    },
  };
}

/** roundTrip sends `data`, half-closes, and returns everything read back. */
async function roundTrip(address: SocketAddress, data: Buffer): Promise<Buffer> {
  const conn = await dial(address, { timeout: 5000 });
  const reading = readAll(conn);
  await conn.send(data);
  await conn.closeWrite();
  return reading;
}

async function readAll(conn: Conn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('the echo server', () => {
  for (const url of [
    'tcp://127.0.0.1:0',
    'tcp://[::1]:0',
    `unix:${join(dir.path, 'echo.sock')}`,
    `unix:@sockkit-test-${process.pid}`,
  ]) {
    test(`echoes 4 MiB of random binary data intact over ${url.replace(/\/tmp.*/, 'a temporary folder')}`, async () => {
      const server = await startEcho(url);
      const data = randomBytes(4 * 1024 * 1024);
      const echoed = await roundTrip(server.address, data);
      assert.equal(echoed.length, data.length);
      assert.equal(sha256(echoed), sha256(data));
      const summary = await server.stop();
      assert.equal(summary.connections, 1);
      assert.equal(summary.bytesReceived, data.length);
      assert.equal(summary.bytesSent, data.length);
    });
  }

  test('serves 1,000 concurrent clients, every byte checked', async () => {
    const server = await startEcho('tcp://127.0.0.1:0');
    const clients = 1000;
    const payloads = Array.from({ length: clients }, () =>
      randomBytes(1024 + Math.floor(Math.random() * 4096)),
    );
    // Connect them all first, so all 1,000 are open at the same time, then exchange.
    const conns = await Promise.all(payloads.map(() => dial(server.address, { timeout: 8000 })));
    const echoes = await Promise.all(
      conns.map(async (conn, i) => {
        const reading = readAll(conn);
        await conn.send(payloads[i] as Buffer);
        await conn.closeWrite();
        return reading;
      }),
    );
    for (const [i, echo] of echoes.entries()) {
      assert.ok(echo.equals(payloads[i] as Buffer), `client ${i} got different bytes`);
    }
    const summary = await server.stop();
    assert.equal(summary.connections, clients);
  });

  test('finishes echoing after the client half-closes, then closes its side', async () => {
    const server = await startEcho('tcp://127.0.0.1:0');
    const conn = await dial(server.address);
    const reading = readAll(conn);
    await conn.send('first part, ');
    await conn.send('second part');
    await conn.closeWrite();
    // The client's write side is shut, yet it still reads everything, then sees the server's FIN.
    assert.equal((await reading).toString(), 'first part, second part');
    await conn.closed;
    await server.stop();
  });

  test('keeps reading after the server half-closes toward a client (half-close in the other direction)', async () => {
    // A server that sends a greeting, shuts its write side, and still counts what the client sends.
    const controller = new AbortController();
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
    const received = new Promise<string>((resolve) => {
      listener.handle(async (conn) => {
        await conn.send('greeting');
        await conn.closeWrite();
        resolve((await readAll(conn)).toString());
      });
    });
    const conn = await dial(listener.address);
    const chunks: Buffer[] = [];
    for await (const chunk of conn) chunks.push(chunk); // ends at the server's FIN
    assert.equal(Buffer.concat(chunks).toString(), 'greeting');
    await conn.send('still talking after your FIN');
    await conn.closeWrite();
    assert.equal(await received, 'still talking after your FIN');
    controller.abort();
  });

  test('stops reading from a client that never reads, so its memory stays bounded', async () => {
    const controller = new AbortController();
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
    let serverConn: Conn | undefined;
    const paused = new Promise<void>((resolve) => {
      const served = serve(
        [listener],
        (conn) => {
          serverConn = conn;
          conn.socket.once('pause', () => resolve());
          echoStream(conn);
        },
        { signal: controller.signal, grace: 100 },
      );
      after(() => served);
    });
    // A raw client that offers 64 MiB at once and never reads a byte of the echo.
    const { port } = listener.address as { port: number };
    const client = connect({ host: '127.0.0.1', port });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const offered = 64 * 1024 * 1024;
    client.once('connect', () => {
      for (let sent = 0; sent < offered; sent += chunk.length) client.write(chunk);
    });
    await paused;
    const conn = serverConn as Conn;
    // The server paused because its reply queue was full: what it holds is one socket buffer and
    // one read, not what was offered; the rest waits in the kernels, and TCP slows the client.
    assert.ok(conn.socket.writableLength <= 256 * 1024, `server queued ${conn.socket.writableLength} bytes`);
    assert.ok(
      conn.bytesReceived < offered / 2,
      `server read ${conn.bytesReceived} of ${offered} offered bytes`,
    );
    assert.ok(client.writableLength > offered / 4, 'the client still holds most of what it offered');
    client.destroy();
    controller.abort();
  });

  test('shuts down gracefully: stops accepting, lets open connections finish, then closes the rest', async () => {
    const server = await startEcho('tcp://127.0.0.1:0', 300);
    const finishing = await dial(server.address);
    const lingering = await dial(server.address);
    const stopped = server.stop();
    // New clients are refused at once: the listening socket is closed.
    await assert.rejects(dial(server.address), { code: 'ERR_CONNECTION_REFUSED' });
    // An open connection is still served during the grace period.
    const reading = readAll(finishing);
    await finishing.send('in the grace period');
    await finishing.closeWrite();
    assert.equal((await reading).toString(), 'in the grace period');
    // The one that never finishes is closed when the grace period ends.
    const summary = await stopped;
    assert.equal((await readAll(lingering)).length, 0, 'the lingering client reads EOF');
    lingering.close();
    assert.equal(summary.connections, 2);
    assert.equal(summary.forciblyClosed, 1);
  });
});
