import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHexdump, packetFields } from '../../src/raw/hexdump.js';
import {
  A6,
  B6,
  echoReply4,
  echoRequest6,
  portUnreachable4,
  timeExceeded4,
  timeExceeded6,
} from './captures.js';

const labels = (fields: ReturnType<typeof packetFields>): string[] => fields.map((field) => field.label);

test('a received echo reply is annotated from the IPv4 header through the payload', () => {
  const fields = packetFields(echoReply4, { family: 4, ipHeader: true });
  assert.deepEqual(labels(fields), [
    'IPv4: version 4, header length 20',
    'DSCP 0, ECN 0',
    'total length 84',
    'identification 0x80ab',
    'flags none, fragment offset 0',
    'TTL 63',
    'protocol 1 (ICMP)',
    'header checksum 0xe360',
    'source 10.77.2.2',
    'destination 10.77.1.2',
    'ICMP: type 0 (echo reply)',
    'code 0',
    'checksum 0x34c4 (correct)',
    'identifier 9461 (0x24f5)',
    'sequence 1',
    'payload, 56 bytes',
  ]);
  // Fields tile the packet: each starts where the previous one ended.
  let next = 0;
  for (const field of fields) {
    assert.equal(field.offset, next);
    next += field.length;
  }
  assert.equal(next, echoReply4.length);
});

test('a time exceeded shows the quoted request, indented, down to its sequence', () => {
  const fields = packetFields(timeExceeded4, { family: 4, ipHeader: true });
  const text = labels(fields);
  assert.ok(text.includes('code 0 (Time to live exceeded)'));
  const quotedAt = text.indexOf('quoted packet:');
  assert.ok(quotedAt > 0);
  const quoted = fields.slice(quotedAt + 1);
  assert.ok(quoted.every((field) => field.depth === 1));
  assert.deepEqual(
    quoted.map((field) => field.label).filter((label) => /TTL|destination|identifier|sequence/.test(label)),
    ['TTL 1', 'destination 10.77.2.2', 'identifier 9463 (0x24f7)', 'sequence 1'],
  );
});

test('a port unreachable shows the quoted UDP ports', () => {
  const text = labels(packetFields(portUnreachable4, { family: 4, ipHeader: true }));
  assert.ok(text.includes('code 3 (Destination Port Unreachable)'));
  assert.ok(text.includes('destination port 33435'));
});

test('ICMPv6 is annotated with its checksum verified over the pseudo-header', () => {
  const message = echoRequest6.subarray(40);
  const text = labels(
    packetFields(message, { family: 6, ipHeader: false, pseudo: { source: A6, destination: B6 } }),
  );
  assert.deepEqual(text.slice(0, 3), [
    'ICMPv6: type 128 (echo request)',
    'code 0',
    'checksum 0xab42 (correct)',
  ]);
  const unknown = labels(packetFields(message, { family: 6, ipHeader: false }));
  assert.match(unknown[2] ?? '', /kernel fills it in/);
});

test('an ICMPv6 time exceeded shows the quoted IPv6 header', () => {
  const text = labels(packetFields(timeExceeded6.subarray(40), { family: 6, ipHeader: false }));
  assert.ok(text.includes('code 0 (Time exceeded: Hop limit)'));
  assert.ok(text.includes('hop limit 1'));
  assert.ok(text.includes('destination fd77:2::2'));
});

test('a wrong checksum is pointed out with the expected value', () => {
  const damaged = Buffer.from(echoReply4);
  damaged.writeUInt8(damaged.readUInt8(22) ^ 0x01, 22);
  const text = labels(packetFields(damaged, { family: 4, ipHeader: true }));
  assert.ok(text.includes('checksum 0x35c4 (WRONG, expected 0x34c4)'), text.join('\n'));
});

test('a packet cut at every length is annotated without throwing and says where it stops', () => {
  for (let length = 0; length <= timeExceeded4.length; length++) {
    const fields = packetFields(timeExceeded4.subarray(0, length), { family: 4, ipHeader: true });
    assert.doesNotThrow(() => formatHexdump(timeExceeded4.subarray(0, length), fields));
    if (length < 20) assert.match(fields.at(-1)?.label ?? '', /IPv4 header truncated/);
    if (length >= 20 && length < 28) assert.match(fields.at(-1)?.label ?? '', /ICMP header truncated/);
  }
  for (let length = 0; length <= timeExceeded6.length - 40; length++) {
    const bytes = timeExceeded6.subarray(40, 40 + length);
    assert.doesNotThrow(() => formatHexdump(bytes, packetFields(bytes, { family: 6, ipHeader: false })));
  }
});

test('the dump shows offsets, hex bytes and labels, and shortens long payloads', () => {
  const text = formatHexdump(echoReply4, packetFields(echoReply4, { family: 4, ipHeader: true }), 16);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '  0000  45                       IPv4: version 4, header length 20');
  assert.ok(lines.includes('  000c  0a 4d 02 02              source 10.77.2.2'));
  assert.ok(lines.includes('  001c  d7 e0 05 6b 00 00 00 00  payload, 56 bytes'));
  assert.equal(lines.at(-1), '        ... 40 more bytes');
});
