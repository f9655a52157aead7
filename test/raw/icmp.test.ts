import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketError } from '../../src/errors.js';
import { decodeIcmp, type EchoMessage, type ErrorMessage, encodeEcho } from '../../src/raw/icmp.js';
import {
  A6,
  B4,
  B6,
  echoReply4,
  echoReply6,
  echoRequest4,
  echoRequest6,
  hostUnreachable4,
  portUnreachable4,
  portUnreachable6,
  R6,
  smallRequest4,
  timeExceeded4,
  timeExceeded6,
} from './captures.js';

test('an echo request built by sockkit is byte for byte the one iputils ping sent', () => {
  const captured = echoRequest4.subarray(20);
  const built = encodeEcho(4, { identifier: 0x24f5, sequence: 1, payload: captured.subarray(8) });
  assert.deepEqual(built, captured);
  assert.deepEqual(
    encodeEcho(4, { identifier: 0x24fb, sequence: 1, payload: smallRequest4.subarray(28) }),
    smallRequest4.subarray(20),
  );
});

test('an echo reply built by sockkit matches the captured reply', () => {
  const captured = echoReply4.subarray(20);
  assert.deepEqual(
    encodeEcho(4, { identifier: 0x24f5, sequence: 1, payload: captured.subarray(8) }, { reply: true }),
    captured,
  );
});

test('an ICMPv6 echo request with its pseudo-header matches the capture', () => {
  const captured = echoRequest6.subarray(40);
  const built = encodeEcho(
    6,
    { identifier: 0x24f6, sequence: 1, payload: captured.subarray(8) },
    { pseudo: { source: A6, destination: B6 } },
  );
  assert.deepEqual(built, captured);
});

test('an ICMPv6 echo request without addresses leaves the checksum for the kernel', () => {
  const built = encodeEcho(6, { identifier: 1, sequence: 2 });
  assert.deepEqual(built, Buffer.from([128, 0, 0, 0, 0, 1, 0, 2]));
});

test('identifiers and sequences outside 16 bits are refused', () => {
  assert.throws(() => encodeEcho(4, { identifier: 65536, sequence: 0 }), RangeError);
  assert.throws(
    () => encodeEcho(4, { identifier: 0, sequence: -1 }),
    /sequence must be a whole number from 0 to 65535/,
  );
});

test('a captured echo reply decodes to its identifier, sequence and payload', () => {
  const message = decodeIcmp(4, echoReply4.subarray(20)) as EchoMessage;
  assert.equal(message.kind, 'echo-reply');
  assert.equal(message.identifier, 0x24f5);
  assert.equal(message.sequence, 1);
  assert.equal(message.payload.length, 56);
  const six = decodeIcmp(6, echoReply6.subarray(40), { source: B6, destination: A6 }) as EchoMessage;
  assert.deepEqual([six.kind, six.identifier, six.sequence], ['echo-reply', 0x24f6, 1]);
});

test('a time exceeded from the router quotes the request it dropped', () => {
  const message = decodeIcmp(4, timeExceeded4.subarray(20)) as ErrorMessage;
  assert.equal(message.kind, 'time-exceeded');
  assert.equal(message.code, 0);
  assert.equal(message.quoted.ip.destination, B4);
  assert.deepEqual(message.quoted.echo, { type: 8, identifier: 0x24f7, sequence: 1 });
  const six = decodeIcmp(6, timeExceeded6.subarray(40), { source: R6, destination: A6 }) as ErrorMessage;
  assert.equal(six.kind, 'time-exceeded');
  assert.equal(six.quoted.ip.source, A6);
  assert.deepEqual(six.quoted.echo, { type: 128, identifier: 0x24f8, sequence: 1 });
});

test('a host unreachable quotes the echo request to the absent address', () => {
  const message = decodeIcmp(4, hostUnreachable4.subarray(20)) as ErrorMessage;
  assert.deepEqual([message.kind, message.code], ['destination-unreachable', 1]);
  assert.equal(message.quoted.ip.destination, '10.77.2.99');
  assert.equal(message.quoted.echo?.sequence, 1);
});

test('a port unreachable quotes the UDP header of the probe', () => {
  const four = decodeIcmp(4, portUnreachable4.subarray(20)) as ErrorMessage;
  assert.equal(four.code, 3);
  assert.equal(four.quoted.protocol, 17);
  assert.equal(four.quoted.udp?.destinationPort, 33435);
  assert.equal(four.quoted.echo, undefined);
  const six = decodeIcmp(6, portUnreachable6.subarray(40), { source: B6, destination: A6 }) as ErrorMessage;
  assert.deepEqual(
    [six.kind, six.code, six.quoted.udp?.destinationPort],
    ['destination-unreachable', 4, 33435],
  );
});

test('a message cut anywhere inside its header is rejected as truncated', () => {
  for (let length = 0; length < 8; length++) {
    assert.throws(
      () => decodeIcmp(4, echoReply4.subarray(20, 20 + length)),
      (err: unknown) =>
        err instanceof PacketError &&
        err.code === 'ERR_MALFORMED_PACKET' &&
        err.message === `decode icmp: truncated message: ${length} bytes, need at least 8`,
    );
  }
});

test('a message whose payload was damaged fails its checksum with both values named', () => {
  const damaged = Buffer.from(echoReply4.subarray(20));
  damaged.writeUInt8(damaged.readUInt8(30) ^ 0xff, 30);
  assert.throws(() => decodeIcmp(4, damaged), /^PacketError: decode icmp: bad checksum 0x34c4 \(expected 0x/);
  const damaged6 = Buffer.from(echoReply6.subarray(40));
  damaged6.writeUInt8(damaged6.readUInt8(10) ^ 1, 10);
  assert.throws(
    () => decodeIcmp(6, damaged6, { source: B6, destination: A6 }),
    /decode icmpv6: bad checksum 0xaa42/,
  );
});

test('an ICMPv6 checksum against the wrong addresses is rejected', () => {
  assert.throws(
    () => decodeIcmp(6, echoReply6.subarray(40), { source: R6, destination: A6 }),
    /bad checksum/,
  );
});

test('an error whose quote is too short for an IP header is rejected', () => {
  const cut = Buffer.from(timeExceeded4.subarray(20, 20 + 8 + 12));
  const fixed = encodeChecksum(cut);
  assert.throws(
    () => decodeIcmp(4, fixed),
    /decode icmp: quoted packet unreadable: truncated header: 12 bytes/,
  );
});

test('an error that quotes only the IP header and 8 bytes still names the echo', () => {
  const message = decodeIcmp(
    4,
    encodeChecksum(Buffer.from(timeExceeded4.subarray(20, 20 + 8 + 28))),
  ) as ErrorMessage;
  assert.equal(message.quoted.echo?.identifier, 0x24f7);
});

test('an unknown message type decodes as other, with its body', () => {
  const message = decodeIcmp(4, encodeChecksum(Buffer.from([13, 0, 0, 0, 1, 2, 3, 4, 5])));
  assert.equal(message.kind, 'other');
  assert.equal(message.type, 13);
});

test('a captured request decodes and re-encodes to the same bytes', () => {
  const original = echoRequest4.subarray(20);
  const message = decodeIcmp(4, original) as EchoMessage;
  assert.deepEqual(encodeEcho(4, message), original);
});

/** encodeChecksum rewrites an ICMPv4 message's checksum so that only the bytes under test are wrong. */
function encodeChecksum(message: Buffer): Buffer {
  message.writeUInt16BE(0, 2);
  let sum = 0;
  for (let i = 0; i < message.length; i += 2) sum += ((message[i] ?? 0) << 8) | (message[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  message.writeUInt16BE(~sum & 0xffff, 2);
  return message;
}
