import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PacketError, UsageError } from '../../src/errors.js';
import { IPPROTO_UDP, transportChecksum } from '../../src/raw/pseudo-header.js';
import { decodeQuotedTcp, decodeTcpHeader, encodeSyn } from '../../src/raw/tcp-header.js';
import { encodeUdpProbe } from '../../src/raw/udp-probe.js';
import { parsePorts } from '../../src/scan/ports.js';

// Bounded runs: what a hostile network or command line can hand these parsers.
test('any bytes decode as a TCP header or fail with a PacketError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      for (const decode of [decodeTcpHeader, decodeQuotedTcp]) {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof PacketError, String(err));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('a SYN decodes back to the fields it was built from', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (sourcePort, destinationPort, sequence) => {
        const { value } = decodeTcpHeader(
          encodeSyn({ sourcePort, destinationPort, sequence }, '192.0.2.1', '192.0.2.2'),
        );
        assert.deepEqual(
          [value.sourcePort, value.destinationPort, value.sequence],
          [sourcePort, destinationPort, sequence],
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('every UDP probe carries exactly the checksum asked for, and it verifies', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0xfffe }),
      fc.integer({ min: 2, max: 200 }),
      fc.integer({ min: 0, max: 0xffff }),
      (checksum, payloadLength, sourcePort) => {
        const probe = encodeUdpProbe(
          { sourcePort, destinationPort: 33434, checksum, payloadLength },
          '2001:db8::1',
          '2001:db8::2',
        );
        assert.equal(probe.readUInt16BE(6), checksum);
        assert.equal(transportChecksum(IPPROTO_UDP, '2001:db8::1', '2001:db8::2', probe), checksum);
      },
    ),
    { numRuns: 1000 },
  );
});

test('any port list text parses to ascending unique ports in range, or fails with a UsageError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom(...'0123456789,- x') }), (text) => {
      try {
        const ports = parsePorts(text);
        assert.ok(
          ports.every(
            (port, i) => port >= 1 && port <= 65535 && (i === 0 || port > (ports[i - 1] as number)),
          ),
        );
      } catch (err) {
        assert.ok(err instanceof UsageError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});
