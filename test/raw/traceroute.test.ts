import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Hop, traceroute } from '../../src/raw/traceroute.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

for (const address of ['127.0.0.1', '::1']) {
  test(`a trace to ${address} reaches it at the first hop and stops`, { skip: needsRoot }, async () => {
    const trace = await traceroute(address, { queries: 2, timeout: 2000 });
    assert.equal(trace.packetSize, address === '::1' ? 80 : 60);
    const hops: Hop[] = [];
    for await (const hop of trace) hops.push(hop);
    assert.equal(hops.length, 1);
    assert.equal(hops[0]?.ttl, 1);
    assert.equal(hops[0]?.reached, true);
    assert.deepEqual(
      hops[0]?.probes.map((probe) => [probe.kind, probe.address]),
      [
        ['reply', address],
        ['reply', address],
      ],
    );
  });
}

test('options out of range are refused', async () => {
  await assert.rejects(
    traceroute('127.0.0.1', { maxHops: 0 }),
    /maxHops must be a whole number from 1 to 255/,
  );
  await assert.rejects(traceroute('127.0.0.1', { queries: 11 }), RangeError);
  await assert.rejects(traceroute('127.0.0.1', { maxHops: 5, firstHop: 6 }), /firstHop/);
});
