import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4FromBytes, ipv6FromBytes, ipv6ToBytes } from '../../src/raw/ip-address.js';

test('IPv4 bytes format as dotted decimal', () => {
  assert.equal(ipv4FromBytes(Buffer.from([10, 77, 1, 2])), '10.77.1.2');
});

test('IPv6 bytes format in RFC 5952 canonical form', () => {
  const cases: Array<[string, string]> = [
    ['fd770001000000000000000000000002', 'fd77:1::2'],
    ['00000000000000000000000000000001', '::1'],
    ['00000000000000000000000000000000', '::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['fe800000000000000000000000000000', 'fe80::'],
  ];
  for (const [bytes, text] of cases) assert.equal(ipv6FromBytes(Buffer.from(bytes, 'hex')), text);
});

test('IPv6 text parses back to the same bytes, zones and embedded IPv4 included', () => {
  for (const text of ['fd77:1::2', '::1', '::', '2001:db8:0:1::1', 'fe80::']) {
    assert.equal(ipv6FromBytes(ipv6ToBytes(text)), text);
  }
  assert.equal(ipv6ToBytes('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(ipv6ToBytes('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304');
});

test('a string that is not IPv6 is refused', () => {
  assert.throws(() => ipv6ToBytes('10.0.0.1'), /not an IPv6 address/);
});
