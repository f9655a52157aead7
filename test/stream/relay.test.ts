/**
 * relay's contract, read as a specification: input to the connection and the connection to
 * output, binary-safe, with backpressure both ways; input's end half-closes; the peer's FIN ends
 * the other direction; a failed connection rejects with its error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { echoStream, relay } from '../../src/index.js';
import { pair, sink } from './pair.js';

test('relay copies input to the peer and the peer to output, byte for byte, until both are done', {
  timeout: 8000,
}, async () => {
  const { client, server } = await pair();
  echoStream(server);
  const input = new PassThrough();
  const { output, bytes } = sink();
  const payload = randomBytes(2 * 1024 * 1024);
  const relayed = relay(client, input, output);
  input.end(payload);
  // The echo sends back everything, then answers our FIN (from input's end) with its own.
  await relayed;
  assert.deepEqual(bytes(), payload);
  assert.equal(client.bytesSent, payload.length);
  assert.equal(client.bytesReceived, payload.length);
});

test("input's end half-closes: the peer reads EOF and its later reply still reaches output", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output, bytes } = sink();
  const relayed = relay(client, input, output);
  input.end('question');
  const heard: Buffer[] = [];
  for await (const chunk of server) heard.push(chunk);
  assert.equal(Buffer.concat(heard).toString(), 'question');
  await server.send('answer after EOF');
  await server.closeWrite();
  await relayed;
  assert.equal(bytes().toString(), 'answer after EOF');
});

test("the peer's FIN ends only its direction: input still flows to the peer until it ends", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output, bytes } = sink();
  const relayed = relay(client, input, output);
  await server.send('bye');
  await server.closeWrite();
  await once(client.socket, 'end');
  const heard: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of server) heard.push(chunk);
  })();
  input.end('still sending');
  await reading;
  await relayed;
  assert.equal(bytes().toString(), 'bye');
  assert.equal(Buffer.concat(heard).toString(), 'still sending');
});

test("stopOnPeerClose ends the relay at the peer's FIN, without waiting for input", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough(); // never ends, like a terminal
  const { output, bytes } = sink();
  const relayed = relay(client, input, output, { stopOnPeerClose: true });
  await server.send('goodbye');
  await server.closeWrite();
  await relayed;
  assert.equal(bytes().toString(), 'goodbye');
  assert.equal(client.socket.destroyed, true);
  // Input written after the relay ended goes nowhere: the relay no longer listens to it.
  assert.equal(input.listenerCount('data'), 0);
  server.close();
});

test('a slow output pauses reading from the peer, and nothing is lost', { timeout: 8000 }, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const chunks: Buffer[] = [];
  let pausedWhileWriting = false;
  // An output that finishes each write a turn later: its buffer fills while the peer sends fast.
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
  const relayed = relay(client, input, output);
  input.end();
  const payload = randomBytes(4 * 1024 * 1024);
  await server.send(payload);
  await server.closeWrite();
  await relayed;
  assert.equal(pausedWhileWriting, true, 'the relay never paused the connection for its slow output');
  assert.deepEqual(Buffer.concat(chunks), payload);
});

test('a reset by the peer rejects the relay with ConnectionResetError', { timeout: 5000 }, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relay(client, input, output);
  server.socket.resetAndDestroy();
  await assert.rejects(relayed, {
    name: 'ConnectionResetError',
    code: 'ERR_CONNECTION_RESET',
    message: /^read tcp:\/\/127\.0\.0\.1:\d+: connection reset by peer$/,
  });
  assert.equal(input.listenerCount('data'), 0);
});

test('an output that fails (a reader that went away) closes the connection quietly', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const output = new Writable({
    write(_chunk, _encoding, callback) {
      callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const relayed = relay(client, input, output);
  await server.send('nobody reads this');
  await relayed;
  assert.equal(client.socket.destroyed, true);
  // The peer sees the connection end.
  for await (const _ of server);
  server.close();
});
