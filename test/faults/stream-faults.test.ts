import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { runProgram, tempDir } from '../helpers.js';
import { converse, faultyEcho } from './echo-server.js';

const T = { timeout: 10_000 };

test('delay holds every chunk at least that long, and jitter never reorders a stream', T, async () => {
  const server = await faultyEcho({ delay: 150, jitter: 100, seed: 1 });
  try {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
    let sentAt = 0;
    const outcome = await converse(server.listener.address, (socket) => {
      sentAt = performance.now();
      // Written one at a time, so the server reads them as separate chunks with their own delays.
      let i = 0;
      const next = (): void => {
        if (i === 40) {
          socket.end();
          return;
        }
        socket.write(`line ${i}\n`);
        i += 1;
        setImmediate(next);
      };
      next();
    });
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.toString(), lines);
    const first = (outcome.reads[0]?.at ?? 0) - sentAt;
    // delay - jitter is the least any chunk waits; the bound above is loose (a loaded machine).
    assert.ok(first >= 50 - 1, `first byte after ${first.toFixed(1)}ms, expected at least 50ms`);
    assert.ok(first < 2000, `first byte after ${first.toFixed(1)}ms`);
    assert.ok(server.faults.counts.chunksDelayed >= 1);
  } finally {
    await server.stop();
  }
});

test('a delay of 300ms is seen on the wire as a round trip of at least 300ms', T, async () => {
  const server = await faultyEcho({ delay: 300 });
  try {
    let sentAt = 0;
    const outcome = await converse(server.listener.address, (socket) => {
      sentAt = performance.now();
      socket.end('ping');
    });
    const rtt = (outcome.reads[0]?.at ?? 0) - sentAt;
    assert.equal(outcome.received.toString(), 'ping');
    assert.ok(rtt >= 300, `round trip ${rtt.toFixed(1)}ms, expected at least 300ms`);
    assert.ok(rtt < 300 + 1500, `round trip ${rtt.toFixed(1)}ms`);
  } finally {
    await server.stop();
  }
});

test('throttle delivers within 10% of its rate over 2.5 seconds', T, async () => {
  const rate = 100_000;
  const total = 250_000;
  const server = await faultyEcho({ throttle: rate });
  try {
    const data = randomBytes(total);
    const outcome = await converse(server.listener.address, (socket) => socket.end(data));
    assert.equal(outcome.end, 'eof');
    assert.ok(outcome.received.equals(data), 'the bytes come back unchanged');
    const first = outcome.reads[0] as { at: number; data: Buffer };
    const last = outcome.reads.at(-1) as { at: number };
    // The first read may hold the bucket's burst; the rate is what follows it.
    const measured = ((total - first.data.length) * 1000) / (last.at - first.at);
    assert.ok(
      Math.abs(measured - rate) <= rate * 0.1,
      `measured ${measured.toFixed(0)} B/s for a throttle of ${rate} B/s`,
    );
    assert.ok(server.faults.counts.throttleWaits > 10);
  } finally {
    await server.stop();
  }
});

test('slice delivers in many small reads, none larger than the slice when read promptly', T, async () => {
  const server = await faultyEcho({ slice: 10 });
  try {
    const data = randomBytes(2000);
    const outcome = await converse(server.listener.address, (socket) => socket.end(data));
    assert.ok(outcome.received.equals(data));
    // 200 slices leave one by one; a loaded client may read two together, but never one read.
    assert.ok(outcome.reads.length >= 50, `${outcome.reads.length} reads`);
    const small = outcome.reads.filter((r) => r.data.length <= 10).length;
    assert.ok(small >= outcome.reads.length / 2, `${small} of ${outcome.reads.length} reads within 10 bytes`);
    assert.equal(server.faults.counts.slices, 200);
  } finally {
    await server.stop();
  }
});

/**
 * A Python client, because a libuv client (Node's) that has unread bytes when the RST arrives
 * reports end-of-file instead of the reset (libuv treats POLLHUP after a partial read as EOF);
 * Python's recv, as C's, returns the bytes and then fails with ECONNRESET.
 */
const PYTHON_CLIENT = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * int(sys.argv[2]))
got = 0
try:
    while True:
        data = s.recv(65536)
        if not data:
            print(got, "EOF")
            break
        got += len(data)
except ConnectionResetError:
    print(got, "ECONNRESET")
`;

test('reset-after N bytes is seen by the client as ECONNRESET, after at most N bytes', T, async () => {
  const server = await faultyEcho({ resetAfter: { bytes: 100 } });
  try {
    const { port } = server.listener.address as { port: number };
    const result = await runProgram('python3', ['-c', PYTHON_CLIENT, String(port), '1000']);
    const [received, end] = result.stdout.toString().trim().split(' ');
    assert.equal(end, 'ECONNRESET', result.stderr);
    assert.ok(Number(received) <= 100, `received ${received}`);
    assert.equal(server.faults.counts.resets, 1);
  } finally {
    await server.stop();
  }
});

test('reset-after a duration resets a silent connection once it has passed', T, async () => {
  const server = await faultyEcho({ resetAfter: { ms: 200 } });
  try {
    const startedAt = performance.now();
    const outcome = await converse(server.listener.address, () => {});
    assert.equal(outcome.end, 'ECONNRESET');
    assert.ok(outcome.endedAt - startedAt >= 200);
  } finally {
    await server.stop();
  }
});

test('close-after N bytes is seen as EOF after exactly N bytes, whatever the writes', T, async () => {
  const server = await faultyEcho({ closeAfter: { bytes: 1234 }, slice: 100 });
  try {
    const data = randomBytes(5000);
    const outcome = await converse(server.listener.address, (socket) => {
      // Three writes that straddle the limit; the client does not half-close.
      socket.write(data.subarray(0, 1000));
      socket.write(data.subarray(1000, 1300));
      socket.write(data.subarray(1300));
    });
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.length, 1234);
    assert.ok(outcome.received.equals(data.subarray(0, 1234)));
    assert.equal(server.faults.counts.closes, 1);
  } finally {
    await server.stop();
  }
});

test('close-after a duration sends EOF once it has passed, after what was echoed', T, async () => {
  const server = await faultyEcho({ closeAfter: { ms: 200 } });
  try {
    const startedAt = performance.now();
    const outcome = await converse(server.listener.address, (socket) => socket.write('early'));
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.toString(), 'early');
    assert.ok(outcome.endedAt - startedAt >= 200);
  } finally {
    await server.stop();
  }
});

test('faults work on Unix sockets too: close-after 5 bytes', T, async () => {
  const dir = tempDir();
  const server = await faultyEcho(
    { closeAfter: { bytes: 5 }, delay: 20 },
    `unix:${join(dir.path, 'e.sock')}`,
  );
  try {
    const outcome = await converse(server.listener.address, (socket) => socket.write('hello, world'));
    assert.equal(outcome.received.toString(), 'hello');
    assert.equal(outcome.end, 'eof');
  } finally {
    await server.stop();
    dir.remove();
  }
});

test('a client that never reads cannot make a throttled server buffer without bound', T, async () => {
  const queueLimit = 64 * 1024;
  const server = await faultyEcho({ throttle: 1000 }, 'tcp://127.0.0.1:0', { queueLimit });
  const { host, port } = server.listener.address as { host: string; port: number };
  const client = connect({ host, port });
  client.on('error', () => {});
  client.pause();
  const chunk = Buffer.alloc(64 * 1024);
  let offered = 0;
  const push = (): void => {
    // Bounded: at most 64 MiB offered in all.
    while (offered < 64 * 1024 * 1024) {
      offered += chunk.length;
      if (!client.write(chunk)) return;
    }
  };
  client.on('connect', push);
  client.on('drain', push);
  try {
    // Wait until what the client hands to its kernel stops growing: every buffer on the way is full.
    await new Promise<void>((resolve) => {
      let last = -1;
      let steady = 0;
      let polls = 0;
      const timer = setInterval(() => {
        const handedOn = client.bytesWritten - client.writableLength;
        steady = handedOn === last ? steady + 1 : 0;
        last = handedOn;
        polls += 1;
        if (steady >= 5 || polls >= 100) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    const summary = await server.stop();
    // The kernel's buffers hold a few MiB at most; the server itself holds its 64 KiB queue.
    assert.ok(summary.bytesReceived < 16 * 1024 * 1024, `the server read ${summary.bytesReceived} bytes`);
    assert.ok(offered < 64 * 1024 * 1024, `the client could offer all it had: ${offered} bytes`);
  } finally {
    client.destroy();
    await server.stop();
  }
});
