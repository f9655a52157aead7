import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JitterEstimator } from '../../src/perf/jitter.js';
import {
  isConnectReply,
  LEGACY_UDP_CONNECT_REPLY,
  readUdpHeader,
  UDP_CONNECT_MESSAGE,
  UDP_CONNECT_REPLY,
  writeUdpHeader,
} from '../../src/perf/udp-header.js';
import { UdpSequenceCounter } from '../../src/perf/udp-sequence.js';

describe('iperf3 UDP datagrams', () => {
  test('the header is seconds, microseconds and a 32-bit sequence number, big-endian: 12 bytes', () => {
    const datagram = Buffer.alloc(20, 0xaa);
    writeUdpHeader(datagram, { seconds: 0x01020304, microseconds: 999_999, sequence: 5 }, false);
    assert.deepEqual(
      datagram.subarray(0, 12),
      Buffer.from([0x01, 0x02, 0x03, 0x04, 0x00, 0x0f, 0x42, 0x3f, 0x00, 0x00, 0x00, 0x05]),
    );
    assert.equal(datagram[12], 0xaa, 'the payload after the header is left alone');
    assert.deepEqual(readUdpHeader(datagram, false), {
      seconds: 0x01020304,
      microseconds: 999_999,
      sequence: 5,
    });
  });

  test('with 64-bit counters the sequence number takes 8 bytes: 16 in all', () => {
    const datagram = Buffer.alloc(16);
    writeUdpHeader(datagram, { seconds: 1, microseconds: 2, sequence: 2 ** 32 + 1 }, true);
    assert.deepEqual(datagram, Buffer.from([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1]));
    assert.equal(readUdpHeader(datagram, true)?.sequence, 2 ** 32 + 1);
  });

  test('a datagram too short for its header reads as nothing, and cannot be written', () => {
    assert.equal(readUdpHeader(Buffer.alloc(11), false), undefined);
    assert.equal(readUdpHeader(Buffer.alloc(15), true), undefined);
    assert.throws(
      () => writeUdpHeader(Buffer.alloc(11), { seconds: 0, microseconds: 0, sequence: 1 }, false),
      RangeError,
    );
  });

  test('the connect handshake: "9876" out, "6789" or the legacy 987654321 back', () => {
    assert.deepEqual(UDP_CONNECT_MESSAGE, Buffer.from('9876'));
    assert.deepEqual(UDP_CONNECT_REPLY, Buffer.from('6789'));
    const legacy = Buffer.alloc(4);
    legacy.writeUInt32LE(987654321);
    assert.deepEqual(LEGACY_UDP_CONNECT_REPLY, legacy);
    assert.ok(isConnectReply(Buffer.from('6789')));
    assert.ok(isConnectReply(legacy));
    assert.ok(!isConnectReply(Buffer.from('67890')));
    assert.ok(!isConnectReply(Buffer.from('9876')));
  });
});

describe('JitterEstimator', () => {
  test('follows RFC 3550: J += (|D| - J) / 16 on the change in transit time', () => {
    const jitter = new JitterEstimator();
    assert.equal(jitter.update(0, 0.01), 0, 'the first packet only sets the reference');
    // Transit 10 ms, then 14 ms: D = 4 ms, J = 4/16 ms.
    assert.ok(Math.abs(jitter.update(1, 1.014) - 0.00025) < 1e-12);
    // Transit back to 10 ms: D = 4 ms again, J = 0.25 + (4 - 0.25)/16 ms.
    jitter.update(2, 2.01);
    assert.ok(Math.abs(jitter.jitter - (0.00025 + (0.004 - 0.00025) / 16)) < 1e-12);
  });

  test('is zero for a steady stream, whatever the clocks disagree by', () => {
    const jitter = new JitterEstimator();
    for (let i = 0; i < 100; i++) jitter.update(i, i + 3600.005);
    assert.ok(jitter.jitter < 1e-9);
  });
});

describe('UdpSequenceCounter', () => {
  test('counts a gap as lost, and a late packet as out of order that fills one loss', () => {
    const counter = new UdpSequenceCounter();
    for (const sequence of [1, 2, 5, 3, 6]) counter.accept(sequence);
    assert.equal(counter.highest, 6);
    assert.equal(counter.received, 5);
    assert.equal(counter.outOfOrder, 1);
    assert.equal(counter.lost, 1, '3 and 4 went missing at 5; 3 came late');
  });

  test('never counts negative loss, even for duplicates with nothing lost', () => {
    const counter = new UdpSequenceCounter();
    for (const sequence of [1, 1, 2, 2]) counter.accept(sequence);
    assert.equal(counter.lost, 0);
    assert.equal(counter.outOfOrder, 2);
  });
});
