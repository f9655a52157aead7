import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { runCli } from '../helpers.js';

/** Every server and socket the tests open, closed at the end even when a test failed or timed out. */
const opened = { servers: new Set<Server>(), sockets: new Set<Socket>() };
after(() => {
  for (const socket of opened.sockets) socket.destroy();
  for (const server of opened.servers) server.close();
});

/** recordingServer answers each connection with `reply` once the client half-closes, and keeps what it received. */
async function recordingServer(
  reply: Buffer,
): Promise<{ url: string; received: Promise<Buffer>; server: Server }> {
  const server = createServer({ allowHalfOpen: true });
  let resolveReceived: (bytes: Buffer) => void = () => {};
  const received = new Promise<Buffer>((resolve) => {
    resolveReceived = resolve;
  });
  opened.servers.add(server);
  server.on('connection', (socket: Socket) => {
    opened.sockets.add(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.once('end', () => {
      resolveReceived(Buffer.concat(chunks));
      socket.end(reply);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

describe('--frame on send and connect', { timeout: 30_000 }, () => {
  test('send --frame len16 writes a two-byte big-endian length and prints each reply frame on a line', async () => {
    const reply = Buffer.from([0, 2, 0x6f, 0x6b, 0, 3, 0x79, 0x6f, 0x75]);
    const { url, received, server } = await recordingServer(reply);
    const result = await runCli(['send', url, 'hello', '--frame', 'len16']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await received, Buffer.from([0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.equal(result.stdout.toString(), 'ok\nyou\n');
    server.close();
  });

  test('connect --frame varint sends each input line as one frame', async () => {
    const { url, received, server } = await recordingServer(Buffer.from([1, 0x21]));
    const result = await runCli(['connect', url, '--frame', 'varint'], {
      input: `a\n${'b'.repeat(200)}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      await received,
      Buffer.concat([Buffer.from([1, 0x61, 0xc8, 0x01]), Buffer.alloc(200, 0x62)]),
    );
    assert.equal(result.stdout.toString(), '!\n');
    server.close();
  });

  test('connect --frame len32 prints a reply with a four-byte length', async () => {
    const { url, server } = await recordingServer(Buffer.from([0, 0, 0, 4, 0x70, 0x6f, 0x6e, 0x67]));
    const result = await runCli(['connect', url, '--frame', 'len32'], { input: 'ping\n' });
    assert.equal(result.stdout.toString(), 'pong\n');
    server.close();
  });

  test('a reply frame over --max-frame fails in one line naming the address, exit 1', async () => {
    const { url, server } = await recordingServer(Buffer.from([0xff, 0xff, 1, 2, 3]));
    const result = await runCli(['send', url, 'hi', '--frame', 'len16', '--max-frame', '100']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `sockkit: read ${url}: frame of 65535 bytes exceeds the maximum of 100 bytes\n`,
    );
    server.close();
  });

  test('a reply cut inside a frame is a protocol error', async () => {
    const { url, server } = await recordingServer(Buffer.from([0, 9, 1]));
    const result = await runCli(['send', url, 'hi', '--frame', 'len16']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: read tcp:\/\/127\.0\.0\.1:\d+: stream ended in the middle of a frame \(3 bytes left over\)\n$/,
    );
    server.close();
  });

  test('--frame is a usage error on UDP, with an unknown framing, or with a maximum len8 cannot hold', async () => {
    const udp = await runCli(['send', 'udp://127.0.0.1:9', 'hi', '--frame', 'len8']);
    assert.equal(udp.code, 2);
    assert.match(udp.stderr, /--frame is for stream sockets/);
    const unknown = await runCli(['send', 'tcp://127.0.0.1:9', 'hi', '--frame', 'len64']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /len64/);
    const tooBig = await runCli(['connect', 'tcp://127.0.0.1:9', '--frame', 'len8', '--max-frame', '1KiB']);
    assert.equal(tooBig.code, 2);
    assert.match(
      tooBig.stderr,
      /^sockkit: --max-frame: len8: maxFrameSize 1024 is more than its header can hold \(255\)\n$/,
    );
  });
});
