/**
 * Interop with Debian's iperf3 (3.12), both ways: sockkit's client against `iperf3 -s`, and
 * `iperf3 -c` against sockkit's server; TCP and UDP, forward, reverse, parallel, bidirectional.
 * In each, both sides report, and the figures each side sent the other in the result exchange
 * are the ones the other side prints.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type PerfClientOptions, type PerfReport, perfClient } from '../../src/perf/client.js';
import { iperfJson } from '../../src/perf/iperf-json.js';
import { type RunningServer, runIperf3Client, startIperf3Server, startServer, whyNoIperf3 } from './peers.js';

const skip = whyNoIperf3();
const bounded = { timeout: 9000, skip };

/** againstIperf3 runs sockkit's client against a fresh `iperf3 -s -1` and returns both sides' words. */
async function againstIperf3(options: PerfClientOptions): Promise<{ report: PerfReport; iperf3: string }> {
  const server = await startIperf3Server();
  try {
    const report = await perfClient(server.address, { duration: 1, interval: 0, ...options });
    await server.peer.until(options.protocol === 'udp' ? '%' : 'receiver', 5000).catch(() => undefined);
    return { report, iperf3: server.peer.stdout() };
  } finally {
    await server.peer.stop();
  }
}

/** The largest buffer the kernel gives a TCP socket: the third field of tcp_rmem or tcp_wmem. */
function tcpBufferMax(name: 'tcp_rmem' | 'tcp_wmem'): number {
  return Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
}

/**
 * In flight when a TCP receiver stops counting, per stream: what fits in the sender's send buffer
 * and the receiver's receive buffer, each grown by the kernel's autotuning up to its maximum (here
 * 4 MiB and 32 MiB). A receiver slower than its sender (sockkit's JavaScript under a busy core)
 * fills both, so the gap can be far larger than the default buffers.
 */
const IN_FLIGHT_PER_STREAM = tcpBufferMax('tcp_wmem') + tcpBufferMax('tcp_rmem');

/**
 * The bytes a TCP sender wrote that a receiver had not counted when the client said TEST_END:
 * those in flight, plus what the sender wrote before it read TEST_END (a share of the total).
 */
function assertClose(sent: number, received: number, streams = 1): void {
  assert.ok(received > 0, 'the receiver counted bytes');
  assert.ok(received <= sent, `received ${received} <= sent ${sent}`);
  assert.ok(
    sent - received < streams * IN_FLIGHT_PER_STREAM + 0.05 * sent,
    `sent ${sent}, received ${received}: more than ${streams} stream(s) can hold in flight`,
  );
}

describe('sockkit perf against iperf3 -s', () => {
  test('a TCP stream: iperf3 receives what sockkit sent, and says so in its results', bounded, async () => {
    const { report, iperf3 } = await againstIperf3({});
    assert.equal(report.start.sockkitServer, false, 'no extensions against iperf3');
    assert.equal(report.responsiveness, undefined);
    const [stream] = report.streams;
    assert.ok(stream?.sender);
    assert.equal(stream.id, 1);
    assertClose(stream.sent.bytes, stream.received.bytes);
    assert.match(iperf3, /receiver/);
    // iperf3 -J's shape: sum_sent and sum_received carry the same numbers.
    const json = iperfJson(report, 'test') as {
      end: { sum_sent: { bytes: number }; sum_received: { bytes: number } };
    };
    assert.equal(json.end.sum_sent.bytes, stream.sent.bytes);
    assert.equal(json.end.sum_received.bytes, stream.received.bytes);
  });

  test('-R -P 4: four streams numbered 1, 3, 4, 5, iperf3 sending', bounded, async () => {
    const { report } = await againstIperf3({ direction: 'reverse', parallel: 4 });
    assert.deepEqual(
      report.streams.map((s) => s.id),
      [1, 3, 4, 5],
    );
    for (const stream of report.streams) {
      assert.equal(stream.sender, false);
      assertClose(stream.sent.bytes, stream.received.bytes);
    }
  });

  test('--bidir: one stream each way, both counted at both ends', bounded, async () => {
    const { report } = await againstIperf3({ direction: 'bidir' });
    assert.deepEqual(
      report.streams.map((s) => [s.id, s.sender]),
      [
        [1, true],
        [3, false],
      ],
    );
    for (const stream of report.streams) assertClose(stream.sent.bytes, stream.received.bytes);
  });

  test('UDP at 20 Mbit/s: iperf3 counts the datagrams, their loss and jitter', bounded, async () => {
    const { report, iperf3 } = await againstIperf3({ protocol: 'udp', bitrate: 20_000_000 });
    const [stream] = report.streams;
    assert.ok(stream);
    assert.ok(stream.sent.packets > 1000, `${stream.sent.packets} datagrams at 20 Mbit/s of 1460 bytes`);
    assert.equal(stream.sent.bytes, stream.sent.packets * 1460);
    assert.ok(stream.received.packets <= stream.sent.packets);
    assert.ok(
      stream.received.packets >= stream.sent.packets * 0.9,
      'iperf3 saw (nearly) every sequence number',
    );
    assert.ok(stream.received.jitter >= 0 && stream.received.jitter < 0.1);
    assert.match(iperf3, /\d+\/\d+ \(\d+(\.\d+)?%\)/);
  });

  test('UDP -R -P 2: sockkit receives iperf3 datagrams and measures loss and jitter', bounded, async () => {
    const { report } = await againstIperf3({
      protocol: 'udp',
      bitrate: 10_000_000,
      direction: 'reverse',
      parallel: 2,
    });
    assert.equal(report.streams.length, 2);
    for (const stream of report.streams) {
      assert.equal(stream.sender, false);
      assert.ok(stream.sent.packets > 0, 'iperf3 reported its datagrams');
      assert.ok(stream.received.packets > stream.sent.packets * 0.9);
      assert.ok(stream.received.lost <= stream.sent.packets);
      assert.ok(stream.received.jitter >= 0);
    }
  });
});

describe('iperf3 -c against sockkit perf serve', () => {
  let server: RunningServer;
  before(async () => {
    if (!skip) server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test(
    'a TCP stream: the count sockkit sends in the results is the receiver line of iperf3 -J',
    bounded,
    async () => {
      const result = await runIperf3Client(server.port, ['-t', '1']);
      const summary = await server.testOf(result.cookie);
      assert.equal(result.code, 0, result.stdout);
      assert.equal(summary.error, undefined);
      assert.equal(summary.params?.sockkit, undefined, 'iperf3 asks for no extension');
      assert.equal(result.json.end.sum_received.bytes, summary.bytesReceived);
      assertClose(result.json.end.sum_sent.bytes, summary.bytesReceived);
    },
  );

  test('-R -P 4: sockkit sends on four streams; iperf3 counts them', bounded, async () => {
    const result = await runIperf3Client(server.port, ['-t', '1', '-R', '-P', '4']);
    const summary = await server.testOf(result.cookie);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.json.end.streams.length, 4);
    assert.equal(result.json.end.sum_sent.bytes, summary.bytesSent);
    assertClose(summary.bytesSent, result.json.end.sum_received.bytes, 4);
  });

  test('--bidir: each way counted at both ends', bounded, async () => {
    const result = await runIperf3Client(server.port, ['-t', '1', '--bidir']);
    const summary = await server.testOf(result.cookie);
    assert.equal(result.code, 0, result.stdout);
    assert.equal(result.json.end.sum_received.bytes, summary.bytesReceived);
    assert.equal(result.json.end.sum_sent_bidir_reverse.bytes, summary.bytesSent);
    assertClose(result.json.end.sum_sent.bytes, summary.bytesReceived);
    assertClose(summary.bytesSent, result.json.end.sum_received_bidir_reverse.bytes);
  });

  test(
    'UDP both ways: sockkit counts iperf3 datagrams, and sends datagrams iperf3 counts',
    bounded,
    async () => {
      const forward = await runIperf3Client(server.port, ['-t', '1', '-u', '-b', '10M']);
      const summary = await server.testOf(forward.cookie);
      assert.equal(forward.code, 0, forward.stdout);
      assert.equal(forward.json.end.sum.bytes, summary.bytesReceived);
      assert.equal(forward.json.end.sum.lost_packets, 0, 'nothing lost on loopback at 10 Mbit/s');
      const reverse = await runIperf3Client(server.port, ['-t', '1', '-u', '-b', '10M', '-R']);
      const reverseSummary = await server.testOf(reverse.cookie);
      assert.equal(reverse.code, 0, reverse.stdout);
      assert.ok(reverseSummary.bytesSent > 0);
      assert.ok(reverse.json.end.sum.packets > 0);
      assert.ok(reverse.json.end.sum.bytes <= reverseSummary.bytesSent);
    },
  );

  test(
    'an option sockkit does not support ends the test with iperf3 printing why, at once',
    bounded,
    async () => {
      const result = await runIperf3Client(server.port, ['-t', '1', '-C', 'reno']);
      const summary = await server.testOf(result.cookie);
      // iperf3 -J reports the failure in its JSON (its exit status varies by version).
      assert.match(result.json.error, /not implemented/);
      assert.match(
        summary.error?.message ?? '',
        /congestion-control algorithm \(-C\) is not supported by sockkit perf/,
      );
    },
  );
});
