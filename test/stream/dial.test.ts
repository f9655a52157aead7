/**
 * dial's contract, read as a specification: what it connects to, and the one error each way it
 * can fail, with its class, code and message.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { dial, listen, parseAddress } from '../../src/index.js';

test('dial of a udp:// address is a SchemeError naming the schemes dial takes', async () => {
  await assert.rejects(dial(parseAddress('udp://127.0.0.1:7')), {
    name: 'SchemeError',
    code: 'ERR_UNSUPPORTED_SCHEME',
    message: 'connect udp://127.0.0.1:7: udp:// is not supported here (expected tcp://, tls:// or unix://)',
  });
});

test('listen of a udp:// address is a SchemeError too', async () => {
  await assert.rejects(listen(parseAddress('udp://127.0.0.1:0')), {
    name: 'SchemeError',
    code: 'ERR_UNSUPPORTED_SCHEME',
  });
});

test('dial of a port nobody listens on is ConnectionRefusedError, with the errno kept', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const url = `tcp://127.0.0.1:${port}`;
  await assert.rejects(dial(parseAddress(url)), {
    name: 'ConnectionRefusedError',
    code: 'ERR_CONNECTION_REFUSED',
    errno: 'ECONNREFUSED',
    message: `connect ${url}: connection refused`,
  });
});

test('dial with an aborted signal is an AbortError and opens nothing', async () => {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  try {
    await assert.rejects(dial(listener.address, { signal: AbortSignal.abort() }), {
      name: 'AbortError',
      code: 'ERR_ABORTED',
    });
  } finally {
    await listener.close();
  }
});

test('dial of a Unix path with no socket file is refused, naming the missing file', async () => {
  await assert.rejects(dial(parseAddress('unix:/nonexistent-sockkit-dir/x.sock')), {
    code: 'ERR_CONNECTION_REFUSED',
    message: 'connect unix:/nonexistent-sockkit-dir/x.sock: no such socket file',
  });
});

test('dial of a Unix path with a signal that aborts before the connect ends is an AbortError, and the socket it gave up reports nothing later', async () => {
  const address = parseAddress('unix:/nonexistent-sockkit-dir/x.sock');
  const controller = new AbortController();
  const dialing = dial(address, { signal: controller.signal });
  controller.abort();
  await assert.rejects(dialing, { name: 'AbortError', code: 'ERR_ABORTED' });
  await assert.rejects(dial(address, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  // The connect that was in flight fails after the abort: its 'error' must not escape (the test
  // runner reports an uncaught one after the test as a failure of this file).
  await new Promise((resolve) => setImmediate(resolve));
});
