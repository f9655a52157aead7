/**
 * Faults on `forward`, measured on the wire: a real client through a forward with faults to a
 * real target, over tcp and udp.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import { forward } from '../../src/bridge/forward.js';
import { DatagramFaults } from '../../src/faults/datagram-faults.js';
import type { FaultPlan } from '../../src/faults/fault-plan.js';
import { StreamFaults } from '../../src/faults/stream-faults.js';
import { echoTarget } from '../bridge/peers.js';
import { converse } from './echo-server.js';

const T = { timeout: 10_000 };

/** forwardWithFaults forwards a tcp listener to `target` through `plan`; `stop` ends it. */
async function forwardWithFaults(plan: FaultPlan, target: SocketAddress) {
  const faults = new StreamFaults(plan);
  const controller = new AbortController();
  const fwd = await forward(parseAddress('tcp://127.0.0.1:0'), [{ kind: 'socket', address: target }], {
    signal: controller.signal,
    grace: 0,
    onPair: (pair) => faults.filters(pair.clientSide, pair.targetSide),
  });
  return {
    faults,
    address: fwd.addresses[0] as SocketAddress,
    stop: () => {
      controller.abort();
      return fwd.done;
    },
  };
}

/** countingTarget is a tcp server that keeps, per connection, the bytes it read and when. */
async function countingTarget(): Promise<{ server: Server; address: SocketAddress; reads: number[][] }> {
  const reads: number[][] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const times: number[] = [];
    reads.push(times);
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += 1) times.push(performance.now());
    });
    socket.on('end', () => {
      server.emit('read-all', times);
      socket.end();
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { server, address: parseAddress(`tcp://127.0.0.1:${port}`), reads };
}

test('forward --delay: a round trip through it takes both delays, within a tolerance', T, async () => {
  const echo = await echoTarget('tcp://127.0.0.1:0');
  const fwd = await forwardWithFaults({ delay: 150 }, echo.address);
  try {
    let sentAt = 0;
    const outcome = await converse(fwd.address, (socket) => {
      sentAt = performance.now();
      socket.end('ping');
    });
    const rtt = (outcome.reads[0]?.at ?? Number.NaN) - sentAt;
    assert.equal(outcome.received.toString(), 'ping');
    // 150 ms on the way to the target, 150 ms on the way back.
    assert.ok(rtt >= 300, `round trip ${rtt.toFixed(1)}ms, expected at least 300ms`);
    assert.ok(rtt < 300 + 1000, `round trip ${rtt.toFixed(1)}ms`);
    assert.equal(fwd.faults.counts.chunksDelayed, 2);
  } finally {
    await fwd.stop();
    await echo.close();
  }
});

test('forward --throttle: the target reads at the rate within 10%', T, async () => {
  const rate = 100_000;
  const total = 250_000;
  const target = await countingTarget();
  const fwd = await forwardWithFaults({ throttle: rate }, target.address);
  try {
    const readAll = once(target.server, 'read-all');
    void converse(fwd.address, (socket) => socket.end(randomBytes(total)));
    const [times] = (await readAll) as [number[]];
    assert.equal(times.length, total);
    // The bucket's first burst comes at once; the rate is measured over what follows it.
    const burst = rate / 20;
    const first = times[burst] as number;
    const last = times.at(-1) as number;
    const measured = ((total - burst) * 1000) / (last - first);
    assert.ok(
      Math.abs(measured - rate) <= rate * 0.1,
      `measured ${measured.toFixed(0)} B/s for a throttle of ${rate} B/s`,
    );
  } finally {
    await fwd.stop();
    target.server.close();
  }
});

test('forward --close-after: the client reads EOF after exactly N bytes both ways together', T, async () => {
  const echo = await echoTarget('tcp://127.0.0.1:0');
  const fwd = await forwardWithFaults({ closeAfter: { bytes: 1000 } }, echo.address);
  try {
    const data = randomBytes(600);
    const outcome = await converse(fwd.address, (socket) => socket.write(data));
    // 600 bytes up, then 400 of their echo down.
    assert.equal(outcome.end, 'eof');
    assert.ok(outcome.received.equals(data.subarray(0, 400)), `received ${outcome.received.length}`);
    assert.equal(fwd.faults.counts.closes, 1);
  } finally {
    await fwd.stop();
    await echo.close();
  }
});

test(
  'forward --reset-after: a client is reset once the time has passed, and so is its target',
  T,
  async () => {
    const target = await countingTarget();
    const targetEnd = new Promise<string>((resolve) =>
      target.server.once('connection', (socket) => {
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        socket.once('end', () => resolve('eof'));
      }),
    );
    const fwd = await forwardWithFaults({ resetAfter: { ms: 200 } }, target.address);
    try {
      const startedAt = performance.now();
      const outcome = await converse(fwd.address, (socket) => socket.write('hello'));
      assert.equal(outcome.end, 'ECONNRESET');
      assert.ok(outcome.endedAt - startedAt >= 200);
      assert.equal(await targetEnd, 'ECONNRESET');
      assert.equal(fwd.faults.counts.resets, 1);
    } finally {
      await fwd.stop();
      target.server.close();
    }
  },
);

test(
  'forward udp --loss: the fraction lost lies within a binomial bound, the same for the same seed',
  T,
  async () => {
    const runOnce = async (): Promise<number> => {
      const target = createSocket('udp4');
      let heard = 0;
      target.on('message', () => {
        heard += 1;
        target.emit('heard');
      });
      target.bind(0, '127.0.0.1');
      await once(target, 'listening');
      const controller = new AbortController();
      const faults = new DatagramFaults({ loss: 0.2, seed: 42 });
      const fwd = await forward(
        parseAddress('udp://127.0.0.1:0'),
        [{ kind: 'socket', address: parseAddress(`udp://127.0.0.1:${target.address().port}`) }],
        { signal: controller.signal, udp: { faults } },
      );
      const client = createSocket('udp4');
      const { port } = fwd.addresses[0] as { port: number };
      const total = 1000;
      // In rounds of 50 (fewer than a new session queues while its socket is made), each once the target has heard all the round's survivors: no queue overflows.
      for (let sent = 0; sent < total; sent += 50) {
        for (let i = 0; i < 50; i += 1) client.send(Buffer.from(`datagram ${sent + i}`), port, '127.0.0.1');
        while (heard < sent + 50 - faults.counts.datagramsLost) await once(target, 'heard');
      }
      assert.equal(heard + faults.counts.datagramsLost, total);
      client.close();
      target.close();
      controller.abort();
      await fwd.done;
      return faults.counts.datagramsLost;
    };
    const lost = await runOnce();
    // n = 1000, p = 0.2: mean 200, standard deviation 12.6; four of them either way.
    assert.ok(lost >= 150 && lost <= 250, `${lost} of 1000 lost`);
    assert.equal(await runOnce(), lost, 'the same seed loses the same datagrams');
  },
);
