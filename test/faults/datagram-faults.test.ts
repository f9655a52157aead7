import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { DatagramFaults, DEFAULT_HOLD_BYTES } from '../../src/faults/datagram-faults.js';
import { echoDatagram } from '../../src/services/echo.js';

const T = { timeout: 10_000 };

/** fates passes datagrams 0..n-1 through `faults` with no delay, and returns how often each was delivered. */
function fates(faults: DatagramFaults, n: number): number[] {
  const delivered = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i += 1) faults.pass(i, (d) => (delivered[d] = (delivered[d] as number) + 1));
  return delivered;
}

/** withinBinomial asserts `count` successes of `n` trials lie within 4 standard deviations of n·p. */
function withinBinomial(count: number, n: number, p: number, what: string): void {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - mean) <= 4 * sd, `${what}: ${count} of ${n}, expected ${mean} ± ${4 * sd}`);
}

test('loss drops a fraction of datagrams within a binomial bound, for a fixed seed', () => {
  const faults = new DatagramFaults({ loss: 0.1, seed: 1 });
  const delivered = fates(faults, 10_000);
  const lost = delivered.filter((n) => n === 0).length;
  withinBinomial(lost, 10_000, 0.1, 'lost');
  assert.equal(faults.counts.datagramsLost, lost);
});

test('duplicate delivers a fraction of datagrams twice, within a binomial bound', () => {
  const faults = new DatagramFaults({ duplicate: 0.05, loss: 0.2, seed: 2 });
  const delivered = fates(faults, 10_000);
  const twice = delivered.filter((n) => n === 2).length;
  const kept = delivered.filter((n) => n > 0).length;
  withinBinomial(twice, kept, 0.05, 'duplicated');
  assert.equal(faults.counts.datagramsDuplicated, twice);
});

test('the same seed makes the same decisions; another seed others', () => {
  const plan = { loss: 0.3, duplicate: 0.2 };
  const a = fates(new DatagramFaults({ ...plan, seed: 9 }), 1000);
  const b = fates(new DatagramFaults({ ...plan, seed: 9 }), 1000);
  const c = fates(new DatagramFaults({ ...plan, seed: 10 }), 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // The n-th datagram's fate does not depend on the plan's other values: each draws four numbers.
  const withDelay = fates(new DatagramFaults({ ...plan, seed: 9, jitter: 0 }), 1000);
  assert.deepEqual(a, withDelay);
});

test('delay holds each datagram; jitter lets them overtake; close drops what is held', T, async () => {
  const faults = new DatagramFaults({ delay: 100, jitter: 90, seed: 4 });
  const startedAt = performance.now();
  const order: number[] = [];
  const arrivals: number[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < 20; i += 1) {
      faults.pass(i, (d) => {
        order.push(d);
        arrivals.push(performance.now() - startedAt);
        if (order.length === 20) resolve();
      });
    }
  });
  assert.ok(Math.min(...arrivals) >= 10 - 1, `earliest after ${Math.min(...arrivals)}ms`);
  assert.notDeepEqual(
    order,
    [...order].sort((x, y) => x - y),
    'jitter reorders datagrams',
  );
  assert.equal(faults.counts.datagramsDelayed, 20);
  faults.pass(99, () => assert.fail('a held datagram was delivered after close'));
  assert.equal(faults.held, 1);
  faults.close();
  assert.equal(faults.held, 0);
});

test('past the hold limit, datagrams are dropped and counted, not queued', () => {
  const faults = new DatagramFaults({ delay: 60_000, seed: 5 }, { holdLimit: 10 });
  for (let i = 0; i < 25; i += 1) faults.pass(i, () => {});
  assert.equal(faults.held, 10);
  assert.equal(faults.counts.datagramsOverflowed, 15);
  faults.close();
});

test('past the byte bound (16 MiB by default), datagrams are dropped and counted, whatever their number', () => {
  const faults = new DatagramFaults({ delay: 60_000, seed: 5 });
  const big = Buffer.alloc(65_507);
  for (let i = 0; i < 300; i += 1) faults.pass(big, () => {});
  assert.equal(faults.held, Math.floor(DEFAULT_HOLD_BYTES / big.length), 'held: as many as 16 MiB holds');
  assert.ok(faults.heldBytes <= DEFAULT_HOLD_BYTES, `${faults.heldBytes} bytes held`);
  assert.equal(faults.counts.datagramsOverflowed, 300 - faults.held);
  faults.close();
  assert.equal(faults.heldBytes, 0);
});

test('a delivered datagram gives its bytes back to the bound', async () => {
  const faults = new DatagramFaults({ delay: 1, seed: 5 }, { holdBytes: 100 });
  const delivered = new Promise<void>((resolve) => faults.pass(Buffer.alloc(100), () => resolve()));
  faults.pass(Buffer.alloc(1), () => assert.fail('over the bound: dropped'));
  assert.equal(faults.counts.datagramsOverflowed, 1);
  await delivered;
  assert.equal(faults.heldBytes, 0);
  await new Promise<void>((resolve) => faults.pass(Buffer.alloc(100), () => resolve()));
  assert.equal(faults.counts.datagramsOverflowed, 1, 'room again once the first was delivered');
  faults.close();
});

test('aborting the signal closes it: held datagrams are dropped, timers cleared', () => {
  const controller = new AbortController();
  const faults = new DatagramFaults({ delay: 60_000 }, { signal: controller.signal });
  faults.pass(1, () => assert.fail('delivered after abort'));
  controller.abort();
  assert.equal(faults.held, 0);
  faults.pass(2, () => assert.fail('delivered after abort'));
  assert.equal(faults.held, 0);
});

test('on the wire: a UDP echo with loss answers exactly the datagrams the seed spares', T, async () => {
  const seed = 11;
  const n = 400;
  const plan = { loss: 0.25, duplicate: 0.1, seed };
  // The same seed, run here, says which datagrams the server will answer, and which twice.
  const expected = fates(new DatagramFaults(plan), n);
  const controller = new AbortController();
  const server = await listenPacket(parseAddress('udp://127.0.0.1:0'), { signal: controller.signal });
  const faults = new DatagramFaults(plan, { signal: controller.signal });
  const served = servePackets([server], faults.service(echoDatagram), { signal: controller.signal });
  const client = await dialPacket(server.localAddress);
  try {
    const got = new Array<number>(n).fill(0);
    let received = 0;
    let waiting: { count: number; resolve: () => void } | undefined;
    client.onMessage((data) => {
      const i = data.readUInt32BE(0);
      got[i] = (got[i] as number) + 1;
      received += 1;
      if (waiting && received >= waiting.count) waiting.resolve();
    });
    // In batches, each answered before the next is sent, so no socket buffer overflows; in order,
    // one after another, as loopback keeps UDP's order: the server sees them as sent.
    for (let batch = 0; batch < n; batch += 50) {
      for (let i = batch; i < batch + 50; i += 1) {
        const datagram = Buffer.alloc(4);
        datagram.writeUInt32BE(i);
        await client.send(datagram);
      }
      const count = expected.slice(0, batch + 50).reduce((sum, x) => sum + x, 0);
      await new Promise<void>((resolve) => {
        waiting = { count, resolve };
        if (received >= count) resolve();
      });
    }
    assert.deepEqual(got, expected);
    withinBinomial(expected.filter((x) => x === 0).length, n, 0.25, 'lost');
  } finally {
    controller.abort();
    await client.close();
    await served;
  }
});
