/**
 * relay's options, as a specification: `signal` stops it, `endOutput` passes the peer's EOF on,
 * and a failing input closes the connection rather than passing for its end.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { relay } from '../../src/index.js';
import { pair, sink } from './pair.js';

test('aborting the signal closes the connection and resolves the relay', { timeout: 5000 }, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const controller = new AbortController();
  const relayed = relay(client, input, output, { signal: controller.signal });
  input.write('hi');
  await once(server.socket, 'data');
  controller.abort();
  await relayed;
  assert.equal(client.socket.destroyed, true);
  assert.equal(input.listenerCount('data'), 0);
  for await (const _ of server); // the peer sees the connection end
  server.close();
});

test('a signal already aborted closes the connection at once', { timeout: 5000 }, async () => {
  const { client, server } = await pair();
  await relay(client, new PassThrough(), sink().output, { signal: AbortSignal.abort() });
  assert.equal(client.socket.destroyed, true);
  server.close();
});

test("endOutput ends output at the peer's FIN, after every byte, and input still flows", {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const output = new PassThrough();
  const received: Buffer[] = [];
  output.on('data', (chunk: Buffer) => received.push(chunk));
  const ended = once(output, 'end');
  const relayed = relay(client, input, output, { endOutput: true });
  await server.send('last words');
  await server.closeWrite();
  await ended;
  assert.equal(Buffer.concat(received).toString(), 'last words');
  const heard: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of server) heard.push(chunk);
  })();
  input.end('an answer after EOF');
  await reading;
  await relayed;
  assert.equal(Buffer.concat(heard).toString(), 'an answer after EOF');
});

test('without endOutput, output is left open at the peer FIN (stdout must stay usable)', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relay(client, input, output);
  await server.closeWrite();
  input.end();
  await relayed;
  assert.equal(output.writableEnded, false);
});

test('an input that fails closes the connection (no FIN that would pass for its end) and rejects', {
  timeout: 5000,
}, async () => {
  const { client, server } = await pair();
  const input = new PassThrough();
  const { output } = sink();
  const relayed = relay(client, input, output);
  input.destroy(Object.assign(new Error('read EIO'), { code: 'EIO' }));
  await assert.rejects(relayed, { code: 'ERR_IO', message: /^read: / });
  assert.equal(client.socket.destroyed, true);
  server.close();
});
