/**
 * relayFrames' contract: each input line is one frame, each frame received is one output line,
 * byte for byte; EOF and half-close both ways; backpressure both ways; bounded lines; abort.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { type Conn, FramedConn, lengthPrefixCodec, relayFrames } from '../../src/index.js';
import { pair, sink } from '../stream/pair.js';

/** readAll reads a connection to its EOF. */
async function readAll(conn: Conn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const len16 = lengthPrefixCodec('len16');
const frame16 = (payload: Buffer | string): Buffer => len16.encode(payload);

test('each input line is sent as one frame, bytes as they are (not UTF-8 text), CRLF or not', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  const binary = Buffer.from([0x61, 0xff, 0xfe, 0x00, 0x80, 0x62]);
  input.end(Buffer.concat([binary, Buffer.from('\nsecond\r\n\nlast without newline')]));
  const heard = await readAll(server);
  assert.deepEqual(
    heard,
    Buffer.concat([frame16(binary), frame16('second'), frame16(''), frame16('last without newline')]),
  );
  await server.closeWrite();
  await relayed;
});

test('each frame received is written to output followed by a newline, byte for byte', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output, bytes } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  const frames = [randomBytes(1000), Buffer.alloc(0), randomBytes(65_535)];
  // Split on odd boundaries: the peer's bytes arrive in pieces that do not match the frames.
  const wire = Buffer.concat(frames.map(frame16));
  for (let at = 0; at < wire.length; at += 7919) server.write(wire.subarray(at, at + 7919));
  await server.closeWrite();
  input.end();
  await relayed;
  assert.deepEqual(bytes(), Buffer.concat(frames.flatMap((f) => [f, Buffer.from('\n')])));
});

test("input's end half-closes: the peer reads EOF and its reply after EOF still reaches output", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output, bytes } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  input.end('question\n');
  assert.deepEqual(await readAll(server), frame16('question'));
  await server.send(frame16('answer after EOF'));
  await server.closeWrite();
  await relayed;
  assert.equal(bytes().toString(), 'answer after EOF\n');
  assert.equal(client.socket.destroyed, true);
});

test("the peer's FIN ends only its direction: input still flows until it ends (without stopOnPeerClose)", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output, bytes } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  await server.send(frame16('bye'));
  await server.closeWrite();
  await once(client.socket, 'end');
  const reading = readAll(server);
  input.end('still sending\n');
  assert.deepEqual(await reading, frame16('still sending'));
  await relayed;
  assert.equal(bytes().toString(), 'bye\n');
});

test("stopOnPeerClose ends the relay at the peer's FIN, without waiting for input", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough(); // never ends, like a terminal
  const { output, bytes } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output, { stopOnPeerClose: true });
  await server.send(frame16('goodbye'));
  await server.closeWrite();
  await relayed;
  assert.equal(bytes().toString(), 'goodbye\n');
  assert.equal(input.listenerCount('data'), 0);
  server.close();
});

test('a line longer than the largest frame is refused without waiting for its end', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relayFrames(new FramedConn(client, lengthPrefixCodec('len8')), input, output);
  const heard = readAll(server).catch(() => Buffer.alloc(0));
  input.write('fits\n');
  // 1 MiB with no newline: the relay must give up at byte 256, not wait for a newline.
  input.write(Buffer.alloc(1024 * 1024, 0x78));
  await assert.rejects(relayed, {
    name: 'FrameTooLargeError',
    code: 'ERR_FRAME_TOO_LARGE',
    message: /^write tcp:\/\/127\.0\.0\.1:\d+: frame of at least \d+ bytes exceeds the maximum of 255 bytes$/,
  });
  assert.equal(client.socket.destroyed, true, 'the connection is closed');
  assert.equal(input.listenerCount('data'), 0);
  assert.deepEqual(await heard, Buffer.from([4, 0x66, 0x69, 0x74, 0x73]), 'only the line that fits');
});

test('a peer that never reads pauses input: what waits in memory stays bounded', {
  timeout: 8000,
}, async () => {
  const { client, server } = await pair();
  server.pause();
  const input = new PassThrough({ highWaterMark: 64 * 1024 });
  const { output } = sink();
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  const line = Buffer.concat([randomBytes(1000).map((b) => 0x20 + (b % 90)), Buffer.from('\n')]);
  let paused = false;
  input.on('pause', () => {
    paused = true;
  });
  let offered = 0;
  // Offer lines until the relay pauses input (the socket's buffer is full: the peer reads nothing).
  while (!paused && offered < 100_000) {
    offered += 1;
    if (!input.write(line)) await Promise.race([once(input, 'drain'), once(input, 'pause')]);
  }
  assert.equal(paused, true, `input was never paused (${offered} lines offered)`);
  assert.ok(offered * line.length > 64 * 1024, 'the pause came once the buffers were full, not before');
  const held = client.socket.writableLength + input.readableLength + input.writableLength;
  assert.ok(held < 1024 * 1024, `${held} bytes wait in memory`);
  // The peer reads after all: every line arrives as a frame.
  input.end();
  server.resume();
  const heard = await readAll(server);
  await server.closeWrite();
  await relayed;
  assert.equal(heard.length, offered * (line.length - 1 + 2));
});

test('a slow output pauses reading from the peer, and no frame is lost', { timeout: 8000 }, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const chunks: Buffer[] = [];
  let pausedWhileWriting = false;
  const output = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setImmediate(() => {
        if (client.socket.isPaused()) pausedWhileWriting = true;
        callback();
      });
    },
  });
  const relayed = relayFrames(new FramedConn(client, len16), input, output);
  input.end();
  const frames = Array.from({ length: 64 }, () => randomBytes(60_000));
  await server.send(Buffer.concat(frames.map(frame16)));
  await server.closeWrite();
  await relayed;
  assert.equal(pausedWhileWriting, true, 'the relay never paused the connection for its slow output');
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat(frames.flatMap((f) => [f, Buffer.from('\n')])));
});

test('a frame from the peer over the maximum rejects with the read error', { timeout: 5000 }, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const codec = lengthPrefixCodec('len16', { maxFrameSize: 100 });
  const relayed = relayFrames(new FramedConn(client, codec), input, output);
  server.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
  await assert.rejects(relayed, {
    name: 'FrameTooLargeError',
    message: /^read tcp:\/\/127\.0\.0\.1:\d+: frame of 65535 bytes exceeds the maximum of 100 bytes$/,
  });
  assert.equal(input.listenerCount('data'), 0);
  server.close();
});

test('aborting closes the connection and resolves, leaving no listener on input', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const controller = new AbortController();
  const framed = new FramedConn(client, len16);
  const relayed = relayFrames(framed, input, output, { signal: controller.signal });
  input.write('one\n');
  await once(server.socket, 'data');
  controller.abort();
  await relayed;
  assert.equal(client.socket.destroyed, true);
  assert.equal(input.listenerCount('data'), 0);
  assert.equal(input.listenerCount('end'), 0);
  assert.equal(framed.framesSent, 1);
  assert.throws(() => {
    (framed as unknown as { framesSent: number }).framesSent = 0;
  }, TypeError);
  server.close();
});
