import assert from 'node:assert/strict';
import { test } from 'node:test';
import { internetChecksum } from '../../src/raw/checksum.js';
import { IPPROTO_TCP, pseudoHeader, transportChecksum } from '../../src/raw/pseudo-header.js';
import { decodeQuotedTcp, decodeTcpHeader, encodeSyn, TcpFlag } from '../../src/raw/tcp-header.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// Computed independently (a few lines of Python's struct over the same fields and pseudo-header).
const SYN_V4 = hex('9c40 0050 01020304 00000000 6002 faf0 1063 0000 020405b4');

test('a SYN carries the ports, the sequence, an MSS option and a checksum over the IPv4 pseudo-header', () => {
  const syn = encodeSyn(
    { sourcePort: 40000, destinationPort: 80, sequence: 0x01020304 },
    '192.0.2.1',
    '198.51.100.7',
  );
  assert.deepEqual(syn, SYN_V4);
  // A receiver verifies: the sum over pseudo-header and segment, checksum included, is 0.
  assert.equal(internetChecksum(pseudoHeader('192.0.2.1', '198.51.100.7', IPPROTO_TCP, syn.length), syn), 0);
});

test('the IPv6 SYN checksum covers the 40-byte pseudo-header', () => {
  const syn = encodeSyn(
    { sourcePort: 40000, destinationPort: 80, sequence: 0x01020304 },
    '2001:db8::1',
    '2001:db8::2',
  );
  assert.equal(syn.readUInt16BE(16), 0xa12a);
  assert.deepEqual(syn.subarray(0, 16), SYN_V4.subarray(0, 16));
  assert.equal(transportChecksum(IPPROTO_TCP, '2001:db8::1', '2001:db8::2', syn), 0xa12a);
});

test('a SYN-ACK is decoded with its flags and acknowledgment', () => {
  const synAck = hex('0050 9c40 a0b0c0d0 01020305 6012 ffff 0000 0000 020405b4');
  const { value, used } = decodeTcpHeader(synAck);
  assert.equal(used, 24);
  assert.deepEqual(
    [value.sourcePort, value.destinationPort, value.sequence, value.acknowledgment, value.window],
    [80, 40000, 0xa0b0c0d0, 0x01020305, 0xffff],
  );
  assert.equal(value.flags, TcpFlag.SYN | TcpFlag.ACK);
  const rst = decodeTcpHeader(hex('0050 9c40 00000000 01020305 5014 0000 0000 0000')).value;
  assert.equal(rst.flags, TcpFlag.RST | TcpFlag.ACK);
});

test('a truncated or malformed TCP header is a PacketError, split at every boundary', () => {
  for (let cut = 0; cut < 24; cut++) {
    assert.throws(
      () => decodeTcpHeader(SYN_V4.subarray(0, cut)),
      { code: 'ERR_MALFORMED_PACKET' },
      `cut ${cut}`,
    );
  }
  const badOffset = Buffer.from(SYN_V4);
  badOffset[12] = 0x40; // 4 words: below the minimum of 5
  assert.throws(() => decodeTcpHeader(badOffset), /data offset 16 is below the minimum of 20/);
});

test('the 8 bytes an ICMP error quotes give the ports and the sequence that identify a probe', () => {
  assert.deepEqual(decodeQuotedTcp(SYN_V4.subarray(0, 8)), {
    sourcePort: 40000,
    destinationPort: 80,
    sequence: 0x01020304,
  });
  assert.throws(() => decodeQuotedTcp(SYN_V4.subarray(0, 7)), { code: 'ERR_MALFORMED_PACKET' });
});

test('fields out of range are refused', () => {
  assert.throws(
    () => encodeSyn({ sourcePort: 70000, destinationPort: 80, sequence: 1 }, '192.0.2.1', '192.0.2.2'),
    RangeError,
  );
  assert.throws(
    () => encodeSyn({ sourcePort: 1, destinationPort: 80, sequence: 2 ** 32 }, '192.0.2.1', '192.0.2.2'),
    RangeError,
  );
  assert.throws(() => pseudoHeader('192.0.2.1', '2001:db8::1', IPPROTO_TCP, 20), TypeError);
});
