import assert from 'node:assert/strict';
import { test } from 'node:test';
import { icmpv6PseudoHeader, internetChecksum } from '../../src/raw/checksum.js';
import { A6, B6, echoRequest4, echoRequest6 } from './captures.js';

test('the checksum of RFC 1071 section 3 example words is their folded complement', () => {
  // RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to 0xddf2 (after the end-around carry).
  const words = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(internetChecksum(words), ~0xddf2 & 0xffff);
});

test('a captured IPv4 header and ICMP message both verify to zero', () => {
  assert.equal(internetChecksum(echoRequest4.subarray(0, 20)), 0);
  assert.equal(internetChecksum(echoRequest4.subarray(20)), 0);
});

test('an odd length is padded with a zero byte at the end', () => {
  assert.equal(
    internetChecksum(Buffer.from([0x12, 0x34, 0x56])),
    internetChecksum(Buffer.from([0x12, 0x34, 0x56, 0x00])),
  );
});

test('parts split at any byte give the same checksum as the whole', () => {
  const whole = echoRequest4.subarray(20);
  for (let cut = 0; cut <= whole.length; cut++) {
    assert.equal(
      internetChecksum(whole.subarray(0, cut), whole.subarray(cut)),
      internetChecksum(whole),
      `cut at ${cut}`,
    );
  }
});

test('a captured ICMPv6 echo request verifies with its pseudo-header', () => {
  const message = echoRequest6.subarray(40);
  assert.equal(internetChecksum(icmpv6PseudoHeader(A6, B6, message.length), message), 0);
});

test('the pseudo-header rejects addresses that are not IPv6', () => {
  assert.throws(() => icmpv6PseudoHeader('10.0.0.1', B6, 8), TypeError);
});

test('the checksum of nothing is 0xffff', () => {
  assert.equal(internetChecksum(), 0xffff);
});
