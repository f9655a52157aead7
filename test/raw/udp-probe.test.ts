import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeQuoted } from '../../src/raw/icmp.js';
import { IPPROTO_UDP, transportChecksum } from '../../src/raw/pseudo-header.js';
import { encodeUdpProbe } from '../../src/raw/udp-probe.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

test('a UDP probe carries the wanted checksum, made correct by its first two payload bytes', () => {
  const probe = encodeUdpProbe(
    { sourcePort: 40000, destinationPort: 53, checksum: 0x1234, payloadLength: 4 },
    '192.0.2.1',
    '198.51.100.7',
  );
  // Computed independently (Python, over the same pseudo-header): 0x62ed makes the checksum 0x1234.
  assert.deepEqual(probe, hex('9c40 0035 000c 1234 62ed 0203'));
  assert.equal(transportChecksum(IPPROTO_UDP, '192.0.2.1', '198.51.100.7', probe), 0x1234);
});

test('probes of one flow differ only in checksum and payload, never in ports or length', () => {
  const probes = [1, 2, 0x8000, 0xfffe].map((checksum) =>
    encodeUdpProbe(
      { sourcePort: 33000, destinationPort: 33434, checksum, payloadLength: 32 },
      '2001:db8::1',
      '2001:db8::2',
    ),
  );
  for (const [i, probe] of probes.entries()) {
    assert.deepEqual(probe.subarray(0, 6), probes[0]?.subarray(0, 6));
    assert.equal(probe.length, 40);
    assert.equal(probe.readUInt16BE(6), [1, 2, 0x8000, 0xfffe][i]);
    assert.equal(transportChecksum(IPPROTO_UDP, '2001:db8::1', '2001:db8::2', probe), probe.readUInt16BE(6));
  }
});

test('the checksum an ICMP error quotes back names the probe', () => {
  const probe = encodeUdpProbe(
    { sourcePort: 40000, destinationPort: 53, checksum: 0x1234, payloadLength: 4 },
    '192.0.2.1',
    '198.51.100.7',
  );
  // The IPv4 header a router quotes (TTL already 1... its checksum is not checked) then the datagram.
  const ip = hex('4500 0020 abcd 0000 0111 0000 c0000201 c6336407');
  const quoted = decodeQuoted(4, Buffer.concat([ip, probe.subarray(0, 8)]));
  assert.deepEqual(quoted.udp, { sourcePort: 40000, destinationPort: 53, length: 12, checksum: 0x1234 });
});

test('a checksum of 0 or 0xffff, or fewer than 2 payload bytes, is refused', () => {
  for (const fields of [
    { checksum: 0, payloadLength: 4 },
    { checksum: 0xffff, payloadLength: 4 },
    { checksum: 1, payloadLength: 1 },
  ]) {
    assert.throws(
      () => encodeUdpProbe({ sourcePort: 1, destinationPort: 2, ...fields }, '192.0.2.1', '192.0.2.2'),
      RangeError,
    );
  }
});
