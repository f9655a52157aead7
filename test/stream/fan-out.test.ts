/**
 * fanOut's contract: input to every client and every client to output, byte for byte; EOF both
 * ways; input waits for the slowest client and is released when it leaves; a slow output pauses
 * the clients; abort closes them all.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { type Conn, dial, type FanOutEvent, fanOut, listen, parseAddress } from '../../src/index.js';

/** sink is a Writable that keeps every byte written to it, and tells when `until` bytes are in. */
function sink(): { output: Writable; bytes: () => Buffer; until: (n: number) => Promise<void> } {
  const chunks: Buffer[] = [];
  let size = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      size += chunk.length;
      for (const w of waiters.splice(0)) (size >= w.n ? w.resolve : () => waiters.push(w))();
      callback();
    },
  });
  return {
    output,
    bytes: () => Buffer.concat(chunks),
    until: (n) => new Promise((resolve) => (size >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

async function readAll(conn: Conn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function start(options: { onEvent?: (e: FanOutEvent) => void; output?: Writable } = {}) {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
  const input = new PassThrough();
  const out = sink();
  const output = options.output ?? out.output;
  const done = fanOut(listener, input, output, { signal: controller.signal, onEvent: options.onEvent });
  return { controller, listener, input, out, done };
}

test('input goes to every client and what each sends to output, byte for byte; input’s end is every client’s EOF', {
  timeout: 8000,
}, async () => {
  const { controller, listener, input, out, done } = await start();
  const a = await dial(listener.address);
  const b = await dial(listener.address);
  const fromA = randomBytes(300_000);
  const fromB = randomBytes(200_000);
  await a.send(fromA);
  await b.send(fromB);
  await out.until(fromA.length + fromB.length);
  const data = randomBytes(1024 * 1024);
  const readingA = readAll(a);
  const readingB = readAll(b);
  input.end(data);
  assert.deepEqual(await readingA, data);
  assert.deepEqual(await readingB, data);
  // A client that comes after input ended reads EOF at once.
  const late = await dial(listener.address);
  assert.equal((await readAll(late)).length, 0);
  // Each client's bytes arrived whole (they may interleave between clients, not within one's order).
  const got = out.bytes();
  assert.equal(got.length, fromA.length + fromB.length);
  assert.ok(got.includes(fromA.subarray(0, 1000)) && got.includes(fromB.subarray(-1000)));
  for (const c of [a, b, late]) c.close();
  controller.abort();
  const summary = await done;
  assert.equal(summary.clients, 3);
  assert.equal(summary.bytesReceived, fromA.length + fromB.length);
  assert.equal(summary.bytesSent, 2 * data.length);
});

test("a client's FIN is answered with ours: it is not left half-open", { timeout: 5000 }, async () => {
  const { controller, listener, out, done } = await start();
  const client = await dial(listener.address);
  await client.send('bye');
  await client.closeWrite();
  assert.equal((await readAll(client)).length, 0, 'the client reads EOF');
  await out.until(3);
  assert.equal(out.bytes().toString(), 'bye');
  client.close();
  controller.abort();
  await done;
});

test('a client that stops reading pauses input, memory stays bounded, and leaving releases it', {
  timeout: 9000,
}, async () => {
  const events: FanOutEvent['type'][] = [];
  let paused: () => void = () => {};
  const pausedOnce = new Promise<void>((resolve) => {
    paused = resolve;
  });
  const { controller, listener, input, done } = await start({
    onEvent: (e) => {
      events.push(e.type);
      if (e.type === 'input-paused') paused();
    },
  });
  const stuck = await dial(listener.address);
  stuck.pause();
  const reader = await dial(listener.address);
  const reading = readAll(reader);
  let stuckNow = false;
  void pausedOnce.then(() => {
    stuckNow = true;
  });
  const written: Buffer[] = [];
  let offered = 0;
  while (!stuckNow && offered < 4096) {
    const chunk = randomBytes(64 * 1024);
    written.push(chunk);
    offered += 1;
    if (!input.write(chunk)) await Promise.race([once(input, 'drain'), pausedOnce]);
  }
  assert.equal(stuckNow, true, `input never paused (${offered} chunks offered)`);
  // Bounded: what waits is the socket buffers' worth, not everything offered.
  const held = input.readableLength + input.writableLength;
  assert.ok(held <= 256 * 1024, `${held} bytes wait in input`);
  stuck.socket.resetAndDestroy();
  const after = randomBytes(512 * 1024);
  written.push(after);
  input.end(after);
  const got = await reading;
  assert.equal(got.length, Buffer.concat(written).length, 'the reader got every byte');
  assert.ok(got.equals(Buffer.concat(written)));
  // The reader may have been waited for too, for a moment; the stuck client was, until it left.
  assert.equal(events[0], 'input-paused');
  assert.equal(events.at(-1), 'input-resumed');
  reader.close();
  controller.abort();
  await done;
});

test('a slow output pauses the clients, and nothing is lost', { timeout: 8000 }, async () => {
  const chunks: Buffer[] = [];
  let size = 0;
  let filledUp = false;
  let complete: () => void = () => {};
  const data = randomBytes(4 * 1024 * 1024);
  const allIn = new Promise<void>((resolve) => {
    complete = resolve;
  });
  // An output that finishes each write a turn later: its buffer fills while the client sends fast.
  const output = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= data.length) complete();
      setImmediate(callback);
    },
  });
  output.on('drain', () => {
    filledUp = true;
  });
  const { controller, listener, done } = await start({ output });
  const client = await dial(listener.address);
  await client.send(data);
  await client.closeWrite();
  await allIn;
  assert.equal(filledUp, true, 'output filled up (and the clients waited for it)');
  assert.deepEqual(Buffer.concat(chunks), data);
  client.close();
  controller.abort();
  await done;
});

test('aborting closes every client and resolves; a client that comes later is closed at once', {
  timeout: 5000,
}, async () => {
  const controller = new AbortController();
  // A listener fanOut does not own: it stays open after the abort.
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const input = new PassThrough();
  const { output } = sink();
  const done = fanOut(listener, input, output, { signal: controller.signal });
  const a = await dial(listener.address);
  const b = await dial(listener.address);
  const closed = Promise.all([readAll(a).catch(() => {}), readAll(b).catch(() => {})]);
  await a.send('x');
  controller.abort();
  const summary = await done;
  await closed;
  assert.equal(summary.clients, 2);
  assert.equal(input.listenerCount('data'), 0);
  const late = await dial(listener.address);
  assert.equal((await readAll(late)).length, 0, 'closed without a byte');
  late.close();
  await listener.close();
});
