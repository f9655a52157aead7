import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SEGMENT_DATA, TcpFlow } from '../../src/capture/tcp-flow.js';
import { decodeIPv4Header } from '../../src/raw/ipv4-header.js';
import { decodeIPv6Header } from '../../src/raw/ipv6-header.js';
import { IPPROTO_TCP, transportChecksum } from '../../src/raw/pseudo-header.js';
import { decodeTcpHeader, TcpFlag } from '../../src/raw/tcp-header.js';

const client = { address: '127.0.0.1', port: 50000 };
const server = { address: '127.0.0.1', port: 7 };

/** Seen is what a reader of a packet learns: who sent it, its TCP numbers, flags and data. */
interface Seen {
  from: number;
  seq: number;
  ack: number;
  flags: number;
  data: Buffer;
}

function read(packet: Buffer): Seen {
  const v4 = (packet[0] as number) >> 4 === 4;
  const ip = v4 ? decodeIPv4Header(packet) : decodeIPv6Header(packet);
  const segment = packet.subarray(ip.used);
  const length = v4
    ? decodeIPv4Header(packet).value.totalLength
    : 40 + decodeIPv6Header(packet).value.payloadLength;
  assert.equal(length, packet.length, 'the IP length field covers the packet');
  const tcp = decodeTcpHeader(segment).value;
  assert.equal(
    tcp.checksum,
    transportChecksum(IPPROTO_TCP, ip.value.source, ip.value.destination, segment),
    'the TCP checksum is right',
  );
  return {
    from: tcp.sourcePort,
    seq: tcp.sequence,
    ack: tcp.acknowledgment,
    flags: tcp.flags,
    data: segment.subarray(tcp.headerLength),
  };
}

const { SYN, ACK, PSH, FIN, RST } = TcpFlag;

describe('TcpFlow', () => {
  test('opens with SYN, SYN-ACK, ACK, each SYN taking one sequence number', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 1000, serverIsn: 5000 });
    assert.deepEqual(flow.open().map(read), [
      { from: 50000, seq: 1000, ack: 0, flags: SYN, data: Buffer.alloc(0) },
      { from: 7, seq: 5000, ack: 1001, flags: SYN | ACK, data: Buffer.alloc(0) },
      { from: 50000, seq: 1001, ack: 5001, flags: ACK, data: Buffer.alloc(0) },
    ]);
  });

  test('data each way advances the sender sequence number and is acknowledged by the other side', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 1000, serverIsn: 5000 });
    flow.open();
    assert.deepEqual(flow.data('client', Buffer.from('ping')).map(read), [
      { from: 50000, seq: 1001, ack: 5001, flags: ACK | PSH, data: Buffer.from('ping') },
      { from: 7, seq: 5001, ack: 1005, flags: ACK, data: Buffer.alloc(0) },
    ]);
    assert.deepEqual(flow.data('server', Buffer.from('pong!')).map(read), [
      { from: 7, seq: 5001, ack: 1005, flags: ACK | PSH, data: Buffer.from('pong!') },
      { from: 50000, seq: 1005, ack: 5006, flags: ACK, data: Buffer.alloc(0) },
    ]);
  });

  test('a chunk larger than one segment is split, PSH on the last piece only', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 0, serverIsn: 0 });
    flow.open();
    const chunk = Buffer.alloc(2 * MAX_SEGMENT_DATA + 10, 0x61);
    const seen = flow.data('server', chunk).map(read);
    assert.deepEqual(
      seen.map((s) => [s.from, s.seq, s.data.length, s.flags]),
      [
        [7, 1, MAX_SEGMENT_DATA, ACK],
        [7, 1 + MAX_SEGMENT_DATA, MAX_SEGMENT_DATA, ACK],
        [7, 1 + 2 * MAX_SEGMENT_DATA, 10, ACK | PSH],
        [50000, 1, 0, ACK],
      ],
    );
    assert.equal((seen[3] as Seen).ack, 1 + chunk.length);
    assert.deepEqual(Buffer.concat(seen.map((s) => s.data)), chunk);
    // Every packet fits the 16-bit IPv4 length.
    for (const packet of flow.data('client', chunk)) assert.ok(packet.length <= 65_535);
  });

  test('FIN takes one sequence number, is acknowledged, and ends that direction only', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 100, serverIsn: 200 });
    flow.open();
    assert.deepEqual(
      flow.end('client').map((p) => [read(p).from, read(p).seq, read(p).ack, read(p).flags]),
      [
        [50000, 101, 201, FIN | ACK],
        [7, 201, 102, ACK],
      ],
    );
    assert.deepEqual(flow.data('client', Buffer.from('late')), [], 'no data after our own FIN');
    assert.deepEqual(flow.end('client'), [], 'a second FIN is not sent');
    const reply = flow.data('server', Buffer.from('still here')).map(read);
    assert.deepEqual([reply[0]?.seq, reply[0]?.ack, reply[1]?.ack], [201, 102, 211]);
    assert.deepEqual(
      flow.end('server').map((p) => [read(p).seq, read(p).ack, read(p).flags]),
      [
        [211, 102, FIN | ACK],
        [102, 212, ACK],
      ],
    );
  });

  test('a reset is one RST-ACK, after which nothing more is sent', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 1, serverIsn: 1 });
    flow.open();
    assert.deepEqual(
      flow.reset('server').map((p) => [read(p).from, read(p).flags]),
      [[7, RST | ACK]],
    );
    assert.deepEqual(flow.data('client', Buffer.from('x')), []);
    assert.deepEqual(flow.end('server'), []);
  });

  test('sequence numbers wrap modulo 2^32', () => {
    const flow = new TcpFlow(client, server, { clientIsn: 0xfffffffe, serverIsn: 0 });
    const [syn, , ack] = flow.open().map(read);
    assert.equal(syn?.seq, 0xfffffffe);
    assert.equal(ack?.seq, 0xffffffff);
    const [data, acked] = flow.data('client', Buffer.from('abc')).map(read);
    assert.equal(data?.seq, 0xffffffff);
    assert.equal(acked?.ack, 2);
  });

  test('an IPv6 flow is carried in IPv6 packets', () => {
    const flow = new TcpFlow({ address: '::1', port: 1234 }, { address: '::1', port: 80 });
    const packets = [...flow.open(), ...flow.data('client', Buffer.from('x'))];
    for (const packet of packets) assert.equal((packet[0] as number) >> 4, 6);
    assert.deepEqual(read(packets[3] as Buffer).data, Buffer.from('x'));
  });
});
