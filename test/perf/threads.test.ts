/** `threads`: a client's TCP streams spread over worker threads, against both kinds of server. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { perfClient } from '../../src/perf/client.js';
import { type RunningServer, startIperf3Server, startServer, whyNoIperf3 } from './peers.js';

describe('perf client threads', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
  });

  test('4 streams over 2 threads: every stream counted at both ends, ids in order', {
    timeout: 9000,
  }, async () => {
    const report = await perfClient(server.address, {
      duration: 0.5,
      interval: 0.2,
      parallel: 4,
      threads: 2,
    });
    const summary = await server.testOf(report.start.cookie);
    assert.deepEqual(
      report.streams.map((s) => s.id),
      [1, 3, 4, 5],
    );
    for (const stream of report.streams) {
      assert.ok(stream.received.bytes > 0 && stream.received.bytes <= stream.sent.bytes);
    }
    assert.equal(
      summary.bytesReceived,
      report.streams.reduce((n, s) => n + s.received.bytes, 0),
    );
    assert.ok(report.intervals.length >= 2, 'intervals are reported from the threads too');
  });

  test('reverse over 2 threads against iperf3 -s', { timeout: 9000, skip: whyNoIperf3() }, async () => {
    const iperf3 = await startIperf3Server();
    try {
      const report = await perfClient(iperf3.address, {
        duration: 1,
        interval: 0,
        parallel: 2,
        direction: 'reverse',
        threads: 2,
      });
      for (const stream of report.streams) {
        assert.equal(stream.sender, false);
        assert.ok(stream.received.bytes > 0 && stream.received.bytes <= stream.sent.bytes);
      }
    } finally {
      await iperf3.peer.stop();
    }
  });

  test('threads apply to TCP only', { timeout: 2000 }, async () => {
    await assert.rejects(
      perfClient(server.address, { protocol: 'udp', threads: 2 }),
      (err: unknown) => err instanceof UsageError && /TCP streams only/.test(err.message),
    );
  });
});
