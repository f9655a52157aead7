import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketError } from '../../src/errors.js';
import { decodeIPv4Header } from '../../src/raw/ipv4-header.js';
import { decodeIPv6Header } from '../../src/raw/ipv6-header.js';
import { decodeUdpHeader } from '../../src/raw/udp-header.js';
import { A4, A6, B4, B6, echoReply4, echoRequest4, echoRequest6, portUnreachable4 } from './captures.js';

test('a captured IPv4 header decodes field by field', () => {
  const { value, used } = decodeIPv4Header(echoRequest4);
  assert.equal(used, 20);
  assert.deepEqual(value, {
    version: 4,
    headerLength: 20,
    tos: 0,
    totalLength: 84,
    identification: 0xd8c2,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 1,
    checksum: 0x4a49,
    checksumValid: true,
    source: A4,
    destination: B4,
  });
  assert.equal(decodeIPv4Header(echoReply4).value.ttl, 63);
});

test('an IPv4 header with a damaged byte reports its checksum as invalid', () => {
  const damaged = Buffer.from(echoRequest4);
  damaged[8] = 1; // TTL changed, checksum not updated
  assert.equal(decodeIPv4Header(damaged).value.checksumValid, false);
});

test('a truncated IPv4 header is rejected with its length and the minimum', () => {
  assert.throws(
    () => decodeIPv4Header(echoRequest4.subarray(0, 19)),
    (err: unknown) =>
      err instanceof PacketError &&
      err.code === 'ERR_MALFORMED_PACKET' &&
      err.message === 'decode ipv4: truncated header: 19 bytes, need at least 20',
  );
});

test('an IPv4 header whose length field exceeds the bytes given is rejected', () => {
  const withOptions = Buffer.from(echoRequest4.subarray(0, 20));
  withOptions[0] = 0x46; // IHL 6: 24 bytes of header, only 20 present
  assert.throws(() => decodeIPv4Header(withOptions), /truncated header: 20 bytes, the header says 24/);
});

test('an IPv4 header with a wrong version or too small a length is rejected', () => {
  assert.throws(() => decodeIPv4Header(echoRequest6), /version is 6, not 4/);
  const short = Buffer.from(echoRequest4);
  short[0] = 0x44;
  assert.throws(() => decodeIPv4Header(short), /header length 16 is below the minimum of 20/);
});

test('a captured IPv6 header decodes field by field', () => {
  const { value, used } = decodeIPv6Header(echoRequest6);
  assert.equal(used, 40);
  assert.deepEqual(value, {
    version: 6,
    trafficClass: 0,
    flowLabel: 0x45d5c,
    payloadLength: 64,
    nextHeader: 58,
    hopLimit: 64,
    source: A6,
    destination: B6,
  });
});

test('a truncated or non-IPv6 header is rejected', () => {
  assert.throws(
    () => decodeIPv6Header(echoRequest6.subarray(0, 39)),
    /decode ipv6: truncated header: 39 bytes, need 40/,
  );
  assert.throws(() => decodeIPv6Header(Buffer.concat([echoRequest4, echoRequest4])), /version is 4, not 6/);
});

test('the UDP header an ICMP error quotes decodes its ports', () => {
  const udp = portUnreachable4.subarray(20 + 8 + 20);
  assert.deepEqual(decodeUdpHeader(udp).value, {
    sourcePort: 34493,
    destinationPort: 33435,
    length: 40,
    checksum: 0x17d7,
  });
  assert.throws(() => decodeUdpHeader(udp.subarray(0, 7)), /decode udp: truncated header: 7 bytes, need 8/);
});
