import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { FrameTooLargeError } from '../../src/errors.js';
import { FramedConn } from '../../src/framing/framed-conn.js';
import { lengthPrefixCodec } from '../../src/framing/length-prefix.js';
import { lineCodec } from '../../src/framing/line.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { tempDir } from '../helpers.js';

async function pair(url: string): Promise<{ server: Conn; client: Conn; close: () => Promise<void> }> {
  const listener = await listen(parseAddress(url));
  const [client, server] = await Promise.all([dial(listener.address), listener.accept()]);
  return {
    server,
    client,
    close: async () => {
      client.close();
      server.close();
      await listener.close();
    },
  };
}

describe('FramedConn', () => {
  test('yields length-prefixed frames written one byte at a time over TCP', async () => {
    const { server, client, close } = await pair('tcp://127.0.0.1:0');
    const codec = lengthPrefixCodec('len16');
    const bytes = Buffer.concat([
      codec.encode('hello'),
      codec.encode(''),
      codec.encode(Buffer.from([0, 0xff])),
    ]);
    for (const byte of bytes) await client.send(Buffer.from([byte]));
    await client.closeWrite();
    const frames: string[] = [];
    for await (const frame of new FramedConn(server, codec)) frames.push(frame.toString('latin1'));
    assert.deepEqual(frames, ['hello', '', '\u0000\u00ff']);
    await close();
  });

  test('writes frames that the other side reads back over a Unix socket', async () => {
    const dir = tempDir();
    const { server, client, close } = await pair(`unix:${dir.path}/f.sock`);
    const codec = lengthPrefixCodec('varint');
    const sender = new FramedConn(client, codec);
    await sender.send('one');
    await sender.send(Buffer.alloc(1000, 7));
    await sender.closeWrite();
    const sizes: number[] = [];
    for await (const frame of new FramedConn(server, codec)) sizes.push(frame.length);
    assert.deepEqual(sizes, [3, 1000]);
    assert.equal(sender.framesSent, 2);
    await close();
    dir.remove();
  });

  test('ends with FrameTooLargeError naming the peer and closes only that connection', async () => {
    const { server, client, close } = await pair('tcp://127.0.0.1:0');
    client.write(Buffer.from('short\n'));
    client.write(Buffer.alloc(100, 0x61));
    const lines: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const line of new FramedConn(server, lineCodec({ maxLength: 16 })))
          lines.push(line.toString());
      })(),
      (err: unknown) =>
        err instanceof FrameTooLargeError &&
        err.op === 'read' &&
        err.url.startsWith('tcp://127.0.0.1:') &&
        /exceeds the maximum of 16 bytes/.test(err.message),
    );
    assert.deepEqual(lines, ['short']);
    await once(client.socket, 'end'); // the server closed this connection
    await close();
  });

  test('reports a frame cut short by the peer closing', async () => {
    const { server, client, close } = await pair('tcp://127.0.0.1:0');
    client.write(Buffer.from([0, 0, 0, 9, 1, 2]));
    await client.closeWrite();
    await assert.rejects(
      (async () => {
        for await (const _ of new FramedConn(server, lengthPrefixCodec('len32'))) {
          /* no complete frame arrives */
        }
      })(),
      { code: 'ERR_PROTOCOL', op: 'read' },
    );
    await close();
  });

  test('stops reading while the consumer is busy, so a fast sender is slowed by TCP', async () => {
    const { server, client, close } = await pair('tcp://127.0.0.1:0');
    const codec = lengthPrefixCodec('len32', { maxFrameSize: 64 * 1024 });
    const frame = codec.encode(Buffer.alloc(64 * 1024));
    // Write until the socket says stop: with the reader blocked, that happens after the kernel
    // buffers fill, and well before 200 frames (12.5 MiB) are queued.
    let queued = 0;
    while (client.write(frame) && queued < 200) queued++;
    assert.ok(queued < 200, `the sender was never told to wait (${queued} frames queued)`);
    const framed = new FramedConn(server, codec);
    let received = 0;
    for await (const _ of framed) {
      received++;
      if (received === queued + 1) break;
    }
    assert.equal(received, queued + 1);
    await close();
  });
});
