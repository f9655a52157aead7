/**
 * sockkit perf serve: many tests at once, and clients that misbehave (vanish mid-test, send
 * garbage, never send their parameters) end their own test within a bound while the server
 * keeps serving everyone else.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AbortError, FrameTooLargeError, TimeoutError } from '../../src/errors.js';
import { perfClient } from '../../src/perf/client.js';
import { encodeCookie, makeCookie } from '../../src/perf/control-codec.js';
import { type RunningServer, runIperf3Client, startServer, whyNoIperf3 } from './peers.js';

/** Bytes a raw client received until the server closed the connection. */
function rawExchange(port: number, send: Buffer): Promise<{ received: Buffer; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(send));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), socket }));
  });
}

describe('sockkit perf serve', () => {
  let server: RunningServer;
  /** A server with a short setup bound, for the clients that never finish setting up. */
  let strict: RunningServer;
  before(async () => {
    server = await startServer();
    strict = await startServer({ setupTimeout: 400 });
  });
  after(async () => {
    await Promise.all([server.stop(), strict.stop()]);
  });

  test('runs iperf3 and sockkit clients at once, each with its own result', {
    timeout: 9000,
    skip: whyNoIperf3(),
  }, async () => {
    const [a, b, c, d, e, ...tests] = await Promise.all([
      runIperf3Client(server.port, ['-t', '1']),
      runIperf3Client(server.port, ['-t', '1', '-R']),
      runIperf3Client(server.port, ['-t', '1', '-u', '-b', '5M']),
      perfClient(server.address, { duration: 1, interval: 0 }),
      perfClient(server.address, { duration: 1, interval: 0, direction: 'reverse', parallel: 2 }),
      ...Array.from({ length: 5 }, () => server.nextTest()),
    ]);
    for (const result of [a, b, c]) assert.equal(result.code, 0, result.stdout);
    for (const t of tests) assert.equal(t.error, undefined, t.error?.message);
    const received = tests.map((t) => t.bytesReceived);
    const sent = tests.map((t) => t.bytesSent);
    // Each client's figures from the server are that client's test's, not a mix.
    assert.ok(received.includes(a.json.end.sum_received.bytes));
    assert.ok(sent.includes(b.json.end.sum_sent.bytes));
    assert.ok(received.includes(c.json.end.sum.bytes));
    assert.ok(received.includes(d.streams[0]?.received.bytes as number));
    const reverseSent = e.streams.reduce((n, s) => n + s.sent.bytes, 0);
    assert.ok(sent.includes(reverseSent));
    assert.ok(d.responsiveness && d.responsiveness.loaded.count > 0, 'a sockkit client measures round trips');
  });

  test('a client that vanishes mid-test ends only its own test', { timeout: 9000 }, async () => {
    const controller = new AbortController();
    const vanished = perfClient(server.address, {
      duration: 5,
      interval: 0.1,
      signal: controller.signal,
      onInterval: () => controller.abort(),
    });
    await assert.rejects(vanished, (err: unknown) => err instanceof AbortError);
    const summary = await server.nextTest();
    assert.match(summary.error?.message ?? '', /closed the control connection|reset/);
    const next = await perfClient(server.address, { duration: 0.3, interval: 0 });
    assert.ok((next.streams[0]?.received.bytes ?? 0) > 0, 'the server still serves');
    assert.equal((await server.nextTest()).error, undefined);
  });

  test('bytes that are not a cookie get ACCESS_DENIED and a close', { timeout: 5000 }, async () => {
    const { received } = await rawExchange(strict.port, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.deepEqual(received, Buffer.from([0xff]));
    const { received: unknown } = await rawExchange(strict.port, encodeCookie(makeCookie(), true));
    assert.deepEqual(unknown, Buffer.from([0xff]), 'a probe for no test is refused too');
  });

  test('a client that never sends its parameters is told so and closed within the setup bound', {
    timeout: 5000,
  }, async () => {
    const started = performance.now();
    const { received } = await rawExchange(strict.port, encodeCookie(makeCookie()));
    const elapsed = performance.now() - started;
    // PARAM_EXCHANGE, then SERVER_ERROR with iperf3's "cannot receive parameters" (114).
    assert.deepEqual(received, Buffer.from([9, 0xfe, 0, 0, 0, 114, 0, 0, 0, 0]));
    assert.ok(elapsed < 3000, `closed after ${Math.round(elapsed)} ms`);
    const summary = await strict.nextTest();
    assert.ok(summary.error instanceof TimeoutError);
    assert.match(summary.error.message, /no parameters within 400 ms/);
  });

  test('a parameter message that claims 2 GiB is refused before it arrives', { timeout: 5000 }, async () => {
    const { received } = await rawExchange(
      strict.port,
      Buffer.concat([encodeCookie(makeCookie()), Buffer.from([0x7f, 0xff, 0xff, 0xff])]),
    );
    assert.deepEqual(received.subarray(0, 2), Buffer.from([9, 0xfe]));
    const summary = await strict.nextTest();
    assert.ok(summary.error instanceof FrameTooLargeError);
  });

  test('garbage JSON as parameters ends that test with one line', { timeout: 5000 }, async () => {
    const garbage = Buffer.from('{"tcp": tru');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(garbage.length);
    await rawExchange(strict.port, Buffer.concat([encodeCookie(makeCookie()), length, garbage]));
    const summary = await strict.nextTest();
    assert.equal(summary.error?.code, 'ERR_PROTOCOL');
    assert.doesNotMatch(summary.error?.message ?? '', /\n/);
  });
});
