import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DestinationRules, parseDestinationRule } from '../../src/proxy/destination-rules.js';
import { decodeSocks5Datagram, encodeSocks5Datagram } from '../../src/proxy/socks5-codec.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { type RunningProxy, type RunningServer, startEcho, startProxy } from './servers.js';

/** rawClient connects to the proxy and collects everything it answers until it closes. */
async function rawClient(
  port: number,
): Promise<{ socket: Socket; answer: () => Buffer; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, answer: () => Buffer.concat(chunks), closed };
}

/** readAtLeast resolves once `socket` has delivered `count` bytes (with a 'data' listener of its own). */
function readAtLeast(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length < count) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(got);
    };
    const onClose = (): void => reject(new Error(`closed after ${got.length} of ${count} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

describe('sockkit proxy server', { timeout: 30_000 }, () => {
  let echo: RunningServer;
  let proxy: RunningProxy;
  before(async () => {
    echo = await startEcho();
    proxy = await startProxy({ handshakeTimeout: 400 });
  });
  after(async () => {
    await proxy.stop();
    await echo.stop();
  });

  test('closes a client with a malformed greeting or request, and serves the next one', {
    timeout: 8000,
  }, async () => {
    const malformed = [
      Buffer.from([5, 0]), // no method offered
      Buffer.from([5, 1, 0, 4, 1, 0, 9]), // request of version 4 after a good greeting
      Buffer.from([5, 1, 0, 5, 1, 0, 7, 1, 2]), // address type 7
      Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, ...Buffer.alloc(300, 0x61)]), // SOCKS4a user id with no end
      Buffer.from('NOT HTTP AT ALL\r\n\r\n'),
      Buffer.from(`GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(4000)}\r\n`), // a head past 16 KiB
    ];
    for (const bytes of malformed) {
      const client = await rawClient(proxy.url().port);
      client.socket.write(bytes);
      await client.closed;
      const event = await proxy.nextEvent();
      assert.match(
        event.outcome,
        /^malformed: /,
        `${bytes.subarray(0, 12).toString('hex')}: ${event.outcome}`,
      );
    }
    const conn = await dial(echo.address, { proxy: [proxy.url()] });
    await conn.send('still serving');
    await conn.closeWrite();
    const chunks: Buffer[] = [];
    for await (const chunk of conn) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), 'still serving');
    assert.equal((await proxy.nextEvent()).outcome, 'ok');
  });

  test('answers an unknown address type with reply 8 before closing', { timeout: 5000 }, async () => {
    const client = await rawClient(proxy.url().port);
    client.socket.write(Buffer.from([5, 1, 0, 5, 1, 0, 7, 1, 2]));
    await client.closed;
    assert.deepEqual([...client.answer().subarray(0, 4)], [5, 0, 5, 8]);
    await proxy.nextEvent();
  });

  test('drops a client that never finishes its handshake, within the handshake timeout', {
    timeout: 5000,
  }, async () => {
    const client = await rawClient(proxy.url().port);
    const began = Date.now();
    client.socket.write(Buffer.from([5, 1])); // half a greeting, then nothing
    await client.closed;
    const waited = Date.now() - began;
    assert.ok(waited >= 350 && waited < 3000, `dropped after ${waited}ms`);
    assert.match((await proxy.nextEvent()).outcome, /^dropped: no complete request within 400ms/);
  });

  test('refuses a denied destination with reply 2, and a SOCKS4a client when a login is required', {
    timeout: 5000,
  }, async () => {
    const strict = await startProxy({
      users: [['alice', 'pw']],
      rules: new DestinationRules([], [parseDestinationRule('127.0.0.0/8:1-65535')]),
    });
    try {
      const client = await rawClient(strict.url().port);
      client.socket.write(Buffer.from([5, 1, 2, 1, 5, ...Buffer.from('alice'), 2, ...Buffer.from('pw')]));
      client.socket.write(
        Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, echo.address.port >> 8, echo.address.port & 0xff]),
      );
      await client.closed;
      assert.deepEqual([...client.answer()], [5, 2, 1, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
      const denied = await strict.nextEvent();
      assert.equal(denied.user, 'alice');
      assert.equal(denied.outcome, 'refused: destination denied by rule 127.0.0.0/8:1-65535');
      const socks4 = await rawClient(strict.url().port);
      socks4.socket.write(Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
      await socks4.closed;
      assert.equal(socks4.answer()[1], 91);
      assert.match((await strict.nextEvent()).outcome, /SOCKS4 has no password/);
    } finally {
      await strict.stop();
    }
  });

  test('UDP ASSOCIATE carries datagrams to a UDP echo and back', { timeout: 5000 }, async () => {
    const udpEcho = createSocket('udp4');
    udpEcho.on('message', (data, from) => udpEcho.send(data, from.port, from.address));
    await new Promise<void>((resolve) => udpEcho.bind(0, '127.0.0.1', resolve));
    const echoPort = udpEcho.address().port;
    const client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const control = connect({ host: '127.0.0.1', port: proxy.url().port });
    control.on('error', () => {});
    try {
      await once(control, 'connect');
      control.write(Buffer.from([5, 1, 0]));
      control.write(
        Buffer.from([5, 3, 0, 1, 127, 0, 0, 1, client.address().port >> 8, client.address().port & 0xff]),
      );
      const reply = await readAtLeast(control, 2 + 10);
      assert.deepEqual([...reply.subarray(0, 6)], [5, 0, 5, 0, 0, 1]);
      const relayPort = reply.readUInt16BE(10);
      const answers: Buffer[] = [];
      const got = new Promise<void>((resolve) =>
        client.on('message', (datagram) => {
          answers.push(datagram);
          if (answers.length === 3) resolve();
        }),
      );
      for (const text of ['one', 'two', 'three'])
        client.send(encodeSocks5Datagram('127.0.0.1', echoPort, Buffer.from(text)), relayPort, '127.0.0.1');
      await got;
      const decoded = answers.map(decodeSocks5Datagram);
      assert.deepEqual(decoded.map((d) => d.data.toString()).sort(), ['one', 'three', 'two']);
      for (const d of decoded) assert.deepEqual([d.host, d.port, d.fragment], ['127.0.0.1', echoPort, 0]);
      control.end();
      const event = await proxy.nextEvent();
      assert.equal(event.command, 'udp-associate');
      assert.equal(event.bytesUp, 11);
      assert.equal(event.bytesDown, 11);
    } finally {
      control.destroy();
      client.close();
      udpEcho.close();
    }
  });

  test('1,000 concurrent tunnels carry every byte, each its own', { timeout: 9000 }, async () => {
    const count = 1000;
    const size = 2048;
    const payload = (i: number): Buffer => Buffer.alloc(size, `tunnel ${i};`);
    const roomy = await startProxy();
    try {
      // Opened 100 at a time (a listen backlog is finite: a burst of SYNs past it waits for
      // retransmission), then all 1,000 are open at once and carry their bytes together.
      const conns: Conn[] = [];
      for (let first = 0; first < count; first += 100) {
        const batch = Array.from({ length: 100 }, (_, j) =>
          dial(echo.address, {
            proxy: [roomy.url((first + j) % 2 === 0 ? 'socks5' : 'http')],
            timeout: 20_000,
          }),
        );
        conns.push(...(await Promise.all(batch)));
      }
      const results = await Promise.all(
        conns.map(async (conn, i) => {
          await conn.send(payload(i));
          await conn.closeWrite();
          const chunks: Buffer[] = [];
          for await (const chunk of conn) chunks.push(chunk);
          conn.close();
          return Buffer.concat(chunks).equals(payload(i));
        }),
      );
      assert.equal(results.filter((same) => same).length, count);
      for (let i = 0; i < count; i += 1) assert.equal((await roomy.nextEvent()).outcome, 'ok');
    } finally {
      await roomy.stop();
    }
  });
});
