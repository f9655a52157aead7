/**
 * `connect --frame`: each line of stdin is one frame, as bytes (not text), and a line too long
 * for a frame is one error line, never a crash.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { runCli } from '../helpers.js';

const servers = new Set<Server>();
after(() => {
  for (const server of servers) server.close();
});

/** recorder keeps what its client sent, until the client half-closes; then it closes too. */
async function recorder(): Promise<{ url: string; received: Promise<Buffer> }> {
  const server = createServer({ allowHalfOpen: true });
  servers.add(server);
  const received = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket: Socket) => {
      const chunks: Buffer[] = [];
      socket.on('error', () => {});
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.once('end', () => socket.end());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

test('connect --frame sends the bytes of each line as they are, even when they are not UTF-8', {
  timeout: 9000,
}, async () => {
  const { url, received } = await recorder();
  const line = Buffer.from([0x61, 0xff, 0xfe, 0x80, 0x62]);
  const result = await runCli(['connect', url, '--frame', 'len16'], {
    input: Buffer.concat([line, Buffer.from('\n')]),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await received, Buffer.concat([Buffer.from([0, 5]), line]));
});

test('connect --frame with a line longer than a frame can be fails in one line, exit 1, no stack trace', {
  timeout: 9000,
}, async () => {
  const { url } = await recorder();
  const result = await runCli(['connect', url, '--frame', 'len8'], { input: `${'x'.repeat(300)}\n` });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^sockkit: write tcp:\/\/127\.0\.0\.1:\d+: frame of at least \d+ bytes exceeds the maximum of 255 bytes\n$/,
  );
});
