import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tcpPacket, udpPacket } from '../../src/capture/ip-packet.js';
import { internetChecksum } from '../../src/raw/checksum.js';
import { decodeIPv4Header } from '../../src/raw/ipv4-header.js';
import { decodeIPv6Header } from '../../src/raw/ipv6-header.js';
import { IPPROTO_TCP, IPPROTO_UDP, transportChecksum } from '../../src/raw/pseudo-header.js';
import { decodeTcpHeader, TcpFlag } from '../../src/raw/tcp-header.js';
import { hex } from '../raw/captures.js';

describe('synthesized IP packets', () => {
  test('a TCP SYN over IPv4 is the IPv4 header and a 20-byte TCP header, both checksums right', () => {
    const packet = tcpPacket(
      { address: '192.0.2.1', port: 49152 },
      { address: '198.51.100.2', port: 80 },
      { sequence: 1, acknowledgment: 0, flags: TcpFlag.SYN, window: 65535 },
      Buffer.alloc(0),
      7,
    );
    assert.deepEqual(
      packet,
      hex(
        '45 00 0028 0007 4000 40 06 4e92 c0000201 c6336402' + // IPv4: length 40, id 7, DF, TTL 64, TCP
          'c000 0050 00000001 00000000 50 02 ffff 035a 0000', // TCP: 49152 -> 80, seq 1, SYN, window 65535
      ),
    );
    assert.equal(internetChecksum(packet.subarray(0, 20)), 0, 'the IPv4 header checksum verifies');
    assert.equal(decodeIPv4Header(packet).value.checksumValid, true);
  });

  test('a UDP datagram over IPv6 carries the payload length and a checksum over the pseudo-header', () => {
    const packet = udpPacket(
      { address: '2001:db8::1', port: 5353 },
      { address: '2001:db8::2', port: 7 },
      Buffer.from('hi'),
    );
    assert.deepEqual(
      packet,
      hex(
        '60000000 000a 11 40' + // IPv6: payload length 10, next header UDP, hop limit 64
          '20010db8000000000000000000000001 20010db8000000000000000000000002' +
          '14e9 0007 000a 270c 6869', // UDP: 5353 -> 7, length 10, checksum, "hi"
      ),
    );
    const ip = decodeIPv6Header(packet).value;
    assert.equal(ip.source, '2001:db8::1');
    assert.equal(ip.nextHeader, IPPROTO_UDP);
    const udp = packet.subarray(40);
    assert.equal(transportChecksum(IPPROTO_UDP, ip.source, ip.destination, udp), udp.readUInt16BE(6));
  });

  test('a data segment over IPv6 decodes back to its fields, checksum included', () => {
    const payload = Buffer.from('GET / HTTP/1.0\r\n\r\n');
    const packet = tcpPacket(
      { address: '::1', port: 40000 },
      { address: '::1', port: 8080 },
      { sequence: 0xfffffff0, acknowledgment: 0x12345678, flags: TcpFlag.ACK | TcpFlag.PSH, window: 512 },
      payload,
    );
    assert.equal(packet.length, 40 + 20 + payload.length);
    assert.equal(decodeIPv6Header(packet).value.payloadLength, 20 + payload.length);
    const segment = packet.subarray(40);
    const tcp = decodeTcpHeader(segment).value;
    assert.deepEqual(
      [tcp.sourcePort, tcp.destinationPort, tcp.sequence, tcp.acknowledgment, tcp.flags, tcp.window],
      [40000, 8080, 0xfffffff0, 0x12345678, TcpFlag.ACK | TcpFlag.PSH, 512],
    );
    assert.equal(tcp.checksum, transportChecksum(IPPROTO_TCP, '::1', '::1', segment));
    assert.deepEqual(segment.subarray(20), payload);
  });

  test('a UDP checksum that computes to zero is sent as 0xffff (zero means none)', () => {
    // With a zero payload word the checksum is C; a payload word of C makes the sum fold to
    // 0xffff, so the checksum computes to 0.
    const from = { address: '192.0.2.1', port: 1 };
    const to = { address: '192.0.2.2', port: 2 };
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(udpPacket(from, to, payload).readUInt16BE(26), 0);
    const packet = udpPacket(from, to, payload);
    assert.equal(transportChecksum(IPPROTO_UDP, from.address, to.address, packet.subarray(20)), 0);
    assert.equal(packet.readUInt16BE(26), 0xffff);
  });

  test('addresses of two families are refused', () => {
    assert.throws(
      () =>
        udpPacket({ address: '192.0.2.1', port: 1 }, { address: '2001:db8::1', port: 2 }, Buffer.alloc(0)),
      TypeError,
    );
  });
});
