import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import { decodeJson } from '../../src/perf/control-codec.js';
import { paramsFromWire, paramsToWire } from '../../src/perf/params.js';
import { resultsFromWire, resultsToWire } from '../../src/perf/results.js';

/** What iperf3 3.12 sends for `iperf3 -c HOST -t 1 -P 2` (its --debug output, on the wire). */
const IPERF3_PARAMS =
  '{"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":2,"len":131072,"pacing_timer":1000,"client_version":"3.12"}';

function frame(text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('perf parameters', () => {
  test("reads iperf3 3.12's parameters for a two-stream TCP test", () => {
    const wire = decodeJson(frame(IPERF3_PARAMS))?.value;
    assert.ok(wire);
    assert.deepEqual(paramsFromWire(wire), {
      protocol: 'tcp',
      duration: 1,
      omit: 0,
      parallel: 2,
      direction: 'forward',
      blockLength: 131072,
      bitrate: 0,
      udpCounters64bit: false,
      getServerOutput: false,
      clientVersion: '3.12',
      sockkit: undefined,
    });
  });

  test('writes parameters iperf3 reads, and reads its own back', () => {
    const params = {
      protocol: 'udp' as const,
      duration: 2,
      omit: 1,
      parallel: 4,
      direction: 'bidir' as const,
      blockLength: 1400,
      bitrate: 10_000_000,
      udpCounters64bit: true,
      getServerOutput: false,
      clientVersion: '3.12',
      sockkit: '0.1.0',
    };
    const wire = paramsToWire(params);
    assert.equal(
      JSON.stringify(wire),
      '{"udp":true,"omit":1,"time":2,"num":0,"blockcount":0,"parallel":4,"bidirectional":true,"len":1400,' +
        '"bandwidth":10000000,"pacing_timer":1000,"udp_counters_64bit":1,"sockkit":"0.1.0","client_version":"3.12"}',
    );
    assert.deepEqual(paramsFromWire(wire), params);
    assert.equal(paramsFromWire({ udp: true }).bitrate, 1_000_000, 'UDP defaults to 1 Mbit/s as iperf3 does');
    assert.equal(paramsFromWire({ tcp: true, reverse: true }).direction, 'reverse');
  });

  test('refuses in one sentence what sockkit does not support', () => {
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ sctp: true }, /^perf parameters: SCTP \(--sctp\) is not supported by sockkit perf$/],
      [{ tcp: true, authtoken: 'xyz' }, /authentication/],
      [{ tcp: true, congestion: 'reno' }, /congestion-control algorithm \(-C\)/],
      [{ tcp: true, num: 1000 }, /byte count/],
      [{ tcp: true, window: 65536 }, /socket buffer size \(-w\)/],
    ];
    for (const [wire, message] of refusals) {
      assert.throws(
        () => paramsFromWire(wire),
        (err: unknown) =>
          err instanceof ProtocolError && err.code === 'ERR_PROTOCOL' && message.test(err.message),
      );
    }
  });

  test('refuses values out of range and contradictions', () => {
    assert.throws(
      () => paramsFromWire({ tcp: true, parallel: 1000 }),
      /"parallel" must be an integer from 1 to 128/,
    );
    assert.throws(() => paramsFromWire({ tcp: true, time: -1 }), /"time" must be a number of seconds/);
    assert.equal(
      paramsFromWire({ tcp: true, time: 0.5 }).duration,
      0.5,
      "a sockkit client's fraction of a second",
    );
    assert.throws(() => paramsFromWire({ tcp: true, len: 'big' }), /"len"/);
    assert.throws(() => paramsFromWire({ udp: true, len: 70000 }), /"len"/);
    assert.throws(() => paramsFromWire({ tcp: true, udp: true }), /both TCP and UDP/);
    assert.throws(
      () => paramsFromWire({ tcp: true, reverse: true, bidirectional: true }),
      /reverse and bidirectional/,
    );
  });
});

describe('perf results', () => {
  test("reads iperf3's results, where -1 in an unsigned field arrives as 2^64", () => {
    const wire = JSON.parse(
      '{"cpu_util_total":45.4,"cpu_util_user":0,"cpu_util_system":45.4,"sender_has_retransmits":1.8446744073709552e+19,' +
        '"congestion_used":"bbr","streams":[{"id":1,"bytes":473169920,"retransmits":1.8446744073709552e+19,"jitter":0,' +
        '"errors":0,"packets":0,"start_time":0,"end_time":1.003921}]}',
    );
    const results = resultsFromWire(wire);
    assert.equal(results.senderHasRetransmits, -1);
    assert.deepEqual(results.streams[0], {
      id: 1,
      bytes: 473169920,
      retransmits: -1,
      jitter: 0,
      errors: 0,
      packets: 0,
      outOfOrder: undefined,
      startTime: 0,
      endTime: 1.003921,
    });
  });

  test('writes results with iperf3 keys and reads them back', () => {
    const results = {
      cpuUtilTotal: 1,
      cpuUtilUser: 0.5,
      cpuUtilSystem: 0.5,
      senderHasRetransmits: -1,
      streams: [
        {
          id: 1,
          bytes: 10,
          retransmits: -1,
          jitter: 0.001,
          errors: 2,
          packets: 7,
          outOfOrder: 1,
          startTime: 0,
          endTime: 1,
        },
      ],
      serverOutputText: 'served',
    };
    const wire = resultsToWire(results);
    assert.deepEqual((wire.streams as Record<string, unknown>[])[0], {
      id: 1,
      bytes: 10,
      retransmits: -1,
      jitter: 0.001,
      errors: 2,
      packets: 7,
      sockkit_out_of_order: 1,
      start_time: 0,
      end_time: 1,
    });
    assert.deepEqual(resultsFromWire(wire), results);
  });

  test('refuses results without streams, or a stream without an id', () => {
    assert.throws(() => resultsFromWire({}), /no list of streams/);
    assert.throws(() => resultsFromWire({ streams: [{ bytes: 1 }] }), /no id or byte count/);
    assert.throws(() => resultsFromWire({ streams: [7] }), /not an object/);
  });
});
