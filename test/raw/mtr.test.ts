import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MtrReport, mtr } from '../../src/raw/mtr.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

test('mtr to 127.0.0.1 reports one hop after each round, then a final report', {
  skip: needsRoot,
  timeout: 8000,
}, async () => {
  const run = await mtr('127.0.0.1', { count: 3, interval: 20, timeout: 2000 });
  const reports: MtrReport[] = [];
  for await (const report of run) reports.push(report);
  const final = reports.at(-1);
  assert.equal(final?.final, true);
  assert.equal(final?.rounds, 3);
  assert.equal(final?.reachedAt, 1);
  assert.deepEqual(
    final?.hops.map((hop) => [hop.ttl, hop.address, hop.sent, hop.received, hop.loss]),
    [[1, '127.0.0.1', 3, 3, 0]],
  );
  assert.ok(reports.slice(0, -1).every((report) => !report.final));
});

test('aborting mtr ends it with a final report of the probes that settled', {
  skip: needsRoot,
  timeout: 8000,
}, async () => {
  const controller = new AbortController();
  const run = await mtr('::1', { interval: 20, protocol: 'udp', port: 9, signal: controller.signal });
  let rounds = 0;
  let final: MtrReport | undefined;
  for await (const report of run) {
    if (report.final) final = report;
    else if (++rounds === 3) controller.abort();
  }
  assert.equal(final?.final, true);
  assert.ok((final?.hops[0]?.sent ?? 0) >= 3);
  assert.equal(final?.hops[0]?.loss, 0);
});

test('mtr options out of range are refused', async () => {
  await assert.rejects(mtr('127.0.0.1', { count: 0 }), /count must be a whole number/);
  await assert.rejects(mtr('127.0.0.1', { port: 80 }), /port applies to tcp and udp/);
  await assert.rejects(mtr('127.0.0.1', { interval: 0 }), RangeError);
});
