import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import { join } from '../../src/bridge/join.js';
import { type BridgeSide, connSide } from '../../src/bridge/side.js';
import type { FaultPlan } from '../../src/faults/fault-plan.js';
import { StreamFaults } from '../../src/faults/stream-faults.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { converse } from './echo-server.js';

const T = { timeout: 10_000 };

/** joinWithFaults joins `a` and `b` through `faults`, as `forward --delay ...` does. */
async function joinWithFaults(faults: StreamFaults, a: Conn, b: Conn, signal?: AbortSignal): Promise<void> {
  // Fast reads, as forward makes them: a read buffer the filters still hold must not be reused.
  const sides: [BridgeSide, BridgeSide] = [connSide(a, 'client', true), connSide(b, 'upstream', true)];
  await join(...sides, { signal, filters: faults.filters(...sides) });
}

/** Relay is a relay with faults between a listener and an upstream echo server, as `forward` makes. */
interface Relay {
  readonly address: SocketAddress;
  readonly faults: StreamFaults;
  /** What the upstream read from each connection, and how each ended there. */
  readonly upstream: { bytes: number; end: string }[];
  readonly joined: Promise<void>[];
  stop(): Promise<void>;
}

async function relayWithFaults(plan: FaultPlan, signal?: AbortSignal): Promise<Relay> {
  const upstreamSeen: { bytes: number; end: string }[] = [];
  const upstream: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const seen = { bytes: 0, end: 'open' };
    upstreamSeen.push(seen);
    socket.on('data', (d: Buffer) => {
      seen.bytes += d.length;
      socket.write(d);
    });
    socket.on('end', () => {
      seen.end = 'eof';
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      seen.end = err.code ?? 'error';
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as { port: number }).port;
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
  const faults = new StreamFaults(plan);
  const joined: Promise<void>[] = [];
  listener.handle((client) => {
    joined.push(
      dial(parseAddress(`tcp://127.0.0.1:${port}`)).then((up) => joinWithFaults(faults, client, up, signal)),
    );
  });
  return {
    address: listener.address,
    faults,
    upstream: upstreamSeen,
    joined,
    stop: async () => {
      controller.abort();
      await Promise.all(joined);
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

test(
  'join carries every byte both ways through delay, jitter and slices, and passes the FINs on',
  T,
  async () => {
    const relay = await relayWithFaults({ delay: 20, jitter: 20, slice: 1000, seed: 3 });
    try {
      const data = randomBytes(200_000);
      const outcome = await converse(relay.address, (socket) => socket.end(data));
      assert.equal(outcome.end, 'eof');
      assert.ok(outcome.received.equals(data), 'the echo through the relay is byte-exact');
      await Promise.all(relay.joined);
      assert.deepEqual(relay.upstream, [{ bytes: 200_000, end: 'eof' }]);
    } finally {
      await relay.stop();
    }
  },
);

test(
  'throttle paces each direction on its own: an echo through the relay takes one pass, not two',
  T,
  async () => {
    const relay = await relayWithFaults({ throttle: 100_000 });
    try {
      const data = randomBytes(150_000);
      const startedAt = performance.now();
      const outcome = await converse(relay.address, (socket) => socket.end(data));
      const elapsed = performance.now() - startedAt;
      assert.ok(outcome.received.equals(data));
      // 150 kB at 100 kB/s is 1.5 s each way; the two directions overlap, so about 1.5 s in all,
      // where one bucket shared by both would take 3 s. Two bursts of 5 kB each way come free.
      assert.ok(elapsed >= 1300, `took ${elapsed.toFixed(0)}ms`);
      assert.ok(elapsed < 2500, `took ${elapsed.toFixed(0)}ms`);
    } finally {
      await relay.stop();
    }
  },
);

test('close-after counts the bytes of both directions together, then closes both sides', T, async () => {
  const relay = await relayWithFaults({ closeAfter: { bytes: 100 } });
  try {
    const outcome = await converse(relay.address, (socket) => socket.write(Buffer.alloc(80, 1)));
    // 80 bytes up, then 20 of their echo down: 100 in all.
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.length, 20);
    await Promise.all(relay.joined);
    assert.deepEqual(relay.upstream, [{ bytes: 80, end: 'eof' }]);
    assert.equal(relay.faults.counts.closes, 1);
  } finally {
    await relay.stop();
  }
});

test('reset-after a duration resets both sides', T, async () => {
  const relay = await relayWithFaults({ resetAfter: { ms: 100 } });
  try {
    const outcome = await converse(relay.address, () => {});
    assert.equal(outcome.end, 'ECONNRESET');
    await Promise.all(relay.joined);
    assert.equal(relay.upstream[0]?.end, 'ECONNRESET');
  } finally {
    await relay.stop();
  }
});

test('a client that resets closes the upstream side at once, dropping what was held', T, async () => {
  const relay = await relayWithFaults({ delay: 10_000 });
  try {
    await converse(relay.address, (socket) => {
      socket.write('held for ten seconds');
      // Reset once the relay holds the chunk: a reset that arrives with unread bytes reads as EOF
      // to a libuv reader, and a FIN is passed on only after what is held.
      const resetOnceHeld = (): void => {
        if (relay.faults.counts.chunksDelayed === 0) setImmediate(resetOnceHeld);
        else socket.resetAndDestroy();
      };
      resetOnceHeld();
    });
    // Without the client gone, the held chunk would keep both connections for ten seconds.
    await Promise.all(relay.joined);
    assert.deepEqual(relay.upstream, [{ bytes: 0, end: 'eof' }]);
  } finally {
    await relay.stop();
  }
});

test('aborting the signal closes both sides and join resolves', T, async () => {
  const controller = new AbortController();
  const relay = await relayWithFaults({ delay: 10_000 }, controller.signal);
  try {
    const outcome = converse(relay.address, (socket) => {
      socket.write('x');
      controller.abort();
    });
    await outcome;
    await Promise.all(relay.joined);
  } finally {
    await relay.stop();
  }
});

test('a connection already closed when it is joined closes the other at once', T, async () => {
  const relay = await relayWithFaults({});
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
  try {
    const accepted = new Promise<Conn>((resolve) => listener.handle(resolve));
    const { port } = listener.address as { port: number };
    const client = connect({ host: '127.0.0.1', port });
    client.on('error', () => {});
    const gone = await accepted;
    gone.close();
    await gone.closed;
    const upstream = await dial(relay.address);
    await joinWithFaults(new StreamFaults({ delay: 50 }), gone, upstream);
    assert.ok(upstream.socket.destroyed);
    client.destroy();
  } finally {
    controller.abort();
    await relay.stop();
  }
});
