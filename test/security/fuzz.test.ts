/**
 * A bounded fuzz run of every parser that reads what a peer or a user typed: socket URLs, the
 * framing codecs and the Deframer, ICMP and IP/UDP headers, chat commands, durations and sizes.
 * Each property runs FUZZ_RUNS times (200 by default, a few seconds in all); a long run is
 * `FUZZ_RUNS=100000 node --test dist/test/security/fuzz.test.js` (docs/testing.md). A failure
 * prints the seed and the shrunk input; FUZZ_SEED=N replays it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatAddress, parseAddress, type SocketAddress } from '../../src/address.js';
import {
  isValidNick,
  nickRefusal,
  normalizeRoom,
  parseCommand,
  roomRefusal,
} from '../../src/chat/commands.js';
import { AddressError, FrameTooLargeError, PacketError, SockkitError, UsageError } from '../../src/errors.js';
import type { Codec } from '../../src/framing/codec.js';
import { Deframer } from '../../src/framing/deframer.js';
import { delimiterCodec } from '../../src/framing/delimiter.js';
import { type LengthPrefix, lengthPrefixCodec } from '../../src/framing/length-prefix.js';
import { lineCodec } from '../../src/framing/line.js';
import { decodeVarint, encodeVarint } from '../../src/framing/varint.js';
import { decodeIcmp, decodeQuoted, encodeEcho, expectedChecksum, type IpFamily } from '../../src/raw/icmp.js';
import { decodeIPv4Header } from '../../src/raw/ipv4-header.js';
import { decodeIPv6Header } from '../../src/raw/ipv6-header.js';
import { decodeUdpHeader } from '../../src/raw/udp-header.js';
import { formatDuration, parseCount, parseDuration, parseSize } from '../../src/units.js';

const runs = Number(process.env.FUZZ_RUNS ?? 200);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const settings: fc.Parameters<unknown> = { numRuns: runs, ...(seed === undefined ? {} : { seed }) };
/** Per test: the default run takes well under a second each; a long run is given the time it needs. */
const timeout = runs <= 1000 ? 9000 : undefined;

/** check runs `property` with the shared settings; fast-check throws with the seed and the counterexample. */
function check<T>(property: fc.IProperty<T>): void {
  fc.assert(property, settings as fc.Parameters<T>);
}

/**
 * expectOnly runs `fn` and returns what it returns, or undefined when it threw one of `allowed`;
 * anything else thrown (a TypeError, a RangeError from a Buffer read) fails the property.
 */
function expectOnly<T>(
  allowed: ReadonlyArray<abstract new (...args: never[]) => Error>,
  fn: () => T,
): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (allowed.some((kind) => err instanceof kind)) return undefined;
    throw err;
  }
}

/** outcome runs `fn` and describes what happened, thrown errors included, for comparing two runs. */
function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name} ${err.message}` : String(err) };
  }
}

/**
 * inside returns `bytes` copied into the middle of a larger buffer whose other bytes are all
 * `fill`: a decoder that reads before or past its view sees them, and its result changes with `fill`.
 */
function inside(bytes: Uint8Array, fill: number): Buffer {
  const backing = Buffer.alloc(bytes.length + 64, fill);
  backing.set(bytes, 32);
  return backing.subarray(32, 32 + bytes.length);
}

/** readsOnlyItsInput checks that `decode` gives the same outcome whatever surrounds its input. */
function readsOnlyItsInput(bytes: Uint8Array, decode: (input: Buffer) => unknown): void {
  assert.deepEqual(
    outcome(() => decode(inside(bytes, 0x00))),
    outcome(() => decode(inside(bytes, 0xff))),
  );
}

const bytes = (maxLength = 96): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

/**
 * text is any string, lone surrogates and control characters included, mostly ASCII. (fast-check's
 * own `unit: 'binary'` costs a second of set-up, a fifth of the whole run's budget.)
 */
const text = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc
      .oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x7f }) },
        fc.integer({ min: 0x80, max: 0x10ffff }),
      )
      .map((codePoint) => String.fromCodePoint(codePoint)),
    maxLength,
  });

test('parseAddress: any string is an address or an AddressError, and a formatted address parses back', {
  timeout,
}, () => {
  const url = fc.oneof(
    text(80),
    fc
      .tuple(
        fc.constantFrom('tcp://', 'udp://', 'tls://', 'TCP://', 'unix:', 'unix://', 'unix:@', 'ws://', ''),
        fc.string({ unit: 'binary-ascii', maxLength: 60 }),
      )
      .map(([scheme, rest]) => scheme + rest),
    fc
      .tuple(
        fc.constantFrom('tcp', 'udp', 'tls'),
        fc.oneof(fc.ipV4(), fc.domain()),
        fc.integer({ min: 0, max: 70_000 }),
      )
      .map(([scheme, host, port]) => `${scheme}://${host}:${port}`),
    fc
      .tuple(fc.constantFrom('tcp', 'udp'), fc.ipV6(), fc.nat(70_000))
      .map(([s, h, p]) => `${s}://[${h}]:${p}`),
  );
  check(
    fc.property(url, (text) => {
      const address = expectOnly([AddressError], () => parseAddress(text));
      if (address) assert.deepEqual(parseAddress(formatAddress(address)), address, formatAddress(address));
    }),
  );
  // Addresses built from parts: parse(format(a)) is a.
  const path = fc
    .array(fc.stringMatching(/^[\w.-]{1,12}$/), { minLength: 1, maxLength: 6 })
    .map((parts) => `/${parts.join('/')}`);
  const address: fc.Arbitrary<SocketAddress> = fc.oneof(
    fc.record({
      scheme: fc.constantFrom('tcp' as const, 'udp' as const, 'tls' as const),
      host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
      port: fc.integer({ min: 0, max: 65_535 }),
    }),
    fc.record({ scheme: fc.constant('unix' as const), path, abstract: fc.constant(false) }),
    fc.record({
      scheme: fc.constant('unix' as const),
      path: fc.stringMatching(/^[\w.-]{1,40}$/),
      abstract: fc.constant(true),
    }),
  );
  check(
    fc.property(address, (parts) => {
      const value = { ...parts }; // fc.record's objects have a null prototype
      assert.deepEqual(parseAddress(formatAddress(value)), value, formatAddress(value));
    }),
  );
});

/** Every codec the framing module offers, with limits small enough for the fuzz to reach them. */
function codecs(): fc.Arbitrary<Codec> {
  const max = fc.integer({ min: 1, max: 64 });
  return fc.oneof(
    fc
      .tuple(fc.constantFrom<'lf' | 'crlf'>('lf', 'crlf'), max)
      .map(([ending, maxLength]) => lineCodec({ ending, maxLength })),
    fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 3 }), max)
      .map(([delimiter, maxFrameSize]) => delimiterCodec(delimiter, { maxFrameSize })),
    fc
      .tuple(fc.constantFrom<LengthPrefix>('len8', 'len16', 'len32', 'varint'), max)
      .map(([prefix, maxFrameSize]) => lengthPrefixCodec(prefix, { maxFrameSize })),
  );
}

/** A frame `codec` can encode: at most its maximum, and for a line or delimiter codec, free of its ending. */
function encodable(codec: Codec, frame: Uint8Array): Buffer | undefined {
  return expectOnly([FrameTooLargeError, RangeError], () => codec.encode(frame));
}

test('framing codecs: any bytes decode to a frame inside them, "need more" or a SockkitError', {
  timeout,
}, () => {
  check(
    fc.property(codecs(), bytes(), (codec, input) => {
      const buffer = inside(input, 0x0a);
      const decoded = expectOnly([SockkitError], () => codec.decode(buffer));
      if (decoded) {
        assert.ok(
          decoded.used > 0 && decoded.used <= buffer.length,
          `used ${decoded.used} of ${buffer.length}`,
        );
        assert.ok(decoded.frame.length <= codec.maxFrameSize);
        const start = decoded.frame.byteOffset - buffer.byteOffset;
        assert.ok(
          start >= 0 && start + decoded.frame.length <= decoded.used,
          'the frame lies outside what was used',
        );
      }
      if (input.length > 0 && !decoded) expectOnly([SockkitError], () => codec.decodeEnd(buffer));
      readsOnlyItsInput(input, (view) => codec.decode(view));
      if (codec.frameSize) readsOnlyItsInput(input, (view) => codec.frameSize?.(view));
    }),
  );
});

test('framing codecs: decode(encode(frame)) is the frame, and uses all of it', { timeout }, () => {
  check(
    fc.property(codecs(), bytes(80), (codec, frame) => {
      const encoded = encodable(codec, frame);
      if (!encoded) return;
      const decoded = codec.decode(encoded);
      assert.ok(decoded, 'a whole encoded frame decodes');
      assert.deepEqual(decoded.frame, Buffer.from(frame));
      assert.equal(decoded.used, encoded.length);
    }),
  );
});

test('Deframer: frames split anywhere come out whole, in order, and it holds no more than one frame', {
  timeout,
}, () => {
  const chunked = fc.tuple(
    codecs(),
    fc.array(bytes(80), { maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 8 }),
  );
  check(
    fc.property(chunked, ([codec, candidates, cuts]) => {
      const frames = candidates.filter((frame) => encodable(codec, frame));
      const stream = Buffer.concat(frames.map((frame) => codec.encode(frame)));
      const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
      const deframer = new Deframer(codec);
      const received: Buffer[] = [];
      let from = 0;
      for (const to of [...points, stream.length]) {
        received.push(...deframer.push(stream.subarray(from, to)));
        from = to;
      }
      assert.equal(deframer.end(), undefined);
      assert.deepEqual(
        received,
        frames.map((frame) => Buffer.from(frame)),
      );
    }),
  );
  // Hostile chunks: only the codec's errors, and never more held than one frame and one chunk.
  check(
    fc.property(codecs(), fc.array(bytes(48), { maxLength: 10 }), (codec, chunks) => {
      const deframer = new Deframer(codec);
      try {
        for (const chunk of chunks) {
          for (const frame of deframer.push(Buffer.from(chunk)))
            assert.ok(frame.length <= codec.maxFrameSize);
          assert.ok(
            deframer.buffered <= codec.maxFrameSize + 10 + chunk.length,
            `${deframer.buffered} bytes held, max ${codec.maxFrameSize}`,
          );
        }
        deframer.end();
      } catch (err) {
        if (!(err instanceof SockkitError)) throw err;
      }
    }),
  );
});

test('varint: any bytes are a value, "need more" or ERR_PROTOCOL; decode(encode(n)) is n', {
  timeout,
}, () => {
  check(
    fc.property(bytes(14), (input) => {
      const decoded = expectOnly([SockkitError], () => decodeVarint(input));
      if (decoded) {
        assert.ok(decoded.used >= 1 && decoded.used <= Math.min(input.length, 10));
        assert.ok(Number.isSafeInteger(decoded.value) && decoded.value >= 0);
      }
      readsOnlyItsInput(input, (view) => decodeVarint(view));
    }),
  );
  check(
    fc.property(fc.maxSafeNat(), (value) => {
      const encoded = encodeVarint(value);
      assert.deepEqual(decodeVarint(encoded), { value, used: encoded.length });
    }),
  );
});

test('IP and UDP headers: any bytes are a header within them or a PacketError', { timeout }, () => {
  const decoders = [decodeIPv4Header, decodeIPv6Header, decodeUdpHeader];
  // Bytes that start like an IPv4 or IPv6 header, so the fuzz gets past the version check.
  const header = fc.oneof(
    bytes(),
    fc
      .tuple(fc.integer({ min: 0, max: 15 }), bytes(70))
      .map(([ihl, rest]) => Uint8Array.of(0x40 | ihl, ...rest)),
    bytes(70).map((rest) => Uint8Array.of(0x60, ...rest)),
  );
  check(
    fc.property(header, (input) => {
      for (const decode of decoders) {
        const decoded = expectOnly([PacketError], () => decode(inside(input, 0)));
        if (decoded)
          assert.ok(decoded.used <= input.length, `${decode.name} used ${decoded.used} of ${input.length}`);
        readsOnlyItsInput(input, decode);
      }
      for (const family of [4, 6] as const) {
        expectOnly([PacketError], () => decodeQuoted(family, inside(input, 0)));
        readsOnlyItsInput(input, (view) => decodeQuoted(family, view));
      }
    }),
  );
});

test('ICMP: any message is decoded or a PacketError; decode(encode(echo)) is the echo', { timeout }, () => {
  const pseudo = fc.record({ source: fc.ipV6(), destination: fc.ipV6() });
  // Half the messages carry a correct checksum, so the fuzz reaches the type-specific decoding.
  const message = fc.tuple(fc.constantFrom<IpFamily>(4, 6), bytes(), fc.option(pseudo), fc.boolean());
  check(
    fc.property(message, ([family, input, addresses, fixChecksum]) => {
      const given = family === 6 && addresses ? addresses : undefined;
      const data = Buffer.from(input);
      if (fixChecksum && data.length >= 8 && (family === 4 || given)) {
        data.writeUInt16BE(expectedChecksum(family, data, given), 2);
      }
      expectOnly([PacketError], () => decodeIcmp(family, inside(data, 0), given));
      readsOnlyItsInput(data, (view) => decodeIcmp(family, view, given));
    }),
  );
  const echo = fc.record({
    family: fc.constantFrom<IpFamily>(4, 6),
    identifier: fc.integer({ min: 0, max: 0xffff }),
    sequence: fc.integer({ min: 0, max: 0xffff }),
    payload: bytes(64),
    reply: fc.boolean(),
    pseudo,
  });
  check(
    fc.property(echo, ({ family, identifier, sequence, payload, reply, pseudo: addresses }) => {
      const encoded = encodeEcho(family, { identifier, sequence, payload }, { reply, pseudo: addresses });
      const decoded = decodeIcmp(family, encoded, family === 6 ? addresses : undefined);
      assert.equal(decoded.kind, reply ? 'echo-reply' : 'echo-request');
      assert.ok(decoded.kind === 'echo-reply' || decoded.kind === 'echo-request');
      assert.equal(decoded.identifier, identifier);
      assert.equal(decoded.sequence, sequence);
      assert.deepEqual(decoded.payload, Buffer.from(payload));
    }),
  );
});

test('chat commands: any line is a command, never an exception, and what it accepts is valid', {
  timeout,
}, () => {
  const line = fc.oneof(
    text(80),
    fc
      .tuple(
        fc.constantFrom('/nick ', '/join ', '/who ', '/msg ', '/quit ', '/part', '/list', '/help', '//', '/'),
        text(60),
      )
      .map(([command, rest]) => command + rest),
  );
  const kinds = ['say', 'nick', 'join', 'part', 'list', 'who', 'msg', 'quit', 'help', 'empty', 'invalid'];
  check(
    fc.property(line, (text) => {
      const command = parseCommand(text);
      assert.ok(kinds.includes(command.kind), command.kind);
      // Names come out as typed; the broker checks every name in one place, and the check itself
      // never throws: it admits a name (valid, no refusal) or refuses it in words.
      if (command.kind === 'nick')
        assert.equal(isValidNick(command.nick), nickRefusal(command.nick) === undefined);
      if (command.kind === 'join' || (command.kind === 'who' && command.room !== undefined)) {
        const room = command.room as string;
        const normal = normalizeRoom(room);
        assert.equal(normal !== undefined, roomRefusal(room) === undefined, room);
        if (normal !== undefined) assert.equal(normalizeRoom(normal), normal);
      }
    }),
  );
});

test('durations, sizes and counts: any text is a number of at least 0 or a UsageError', { timeout }, () => {
  const input = fc.oneof(
    text(30),
    fc
      .tuple(
        fc.stringMatching(/^\s?\d{0,25}(\.\d{0,5})?\s?$/),
        fc.constantFrom('', 'ms', 's', 'm', 'h', 'B', 'KiB', 'MiB', 'GiB', 'k', 'M', 'G', 'x', 'd'),
      )
      .map(([number, unit]) => number + unit),
  );
  check(
    fc.property(input, (value) => {
      for (const parse of [parseDuration, parseSize, (input: string) => parseCount(input)]) {
        const parsed = expectOnly([UsageError], () => parse(value));
        // Within range, so never Infinity nor a timer Node would fire at once.
        if (parsed !== undefined)
          assert.ok(
            Number.isSafeInteger(parsed) && parsed >= 0,
            `${parse.name}(${JSON.stringify(value)}) = ${parsed}`,
          );
      }
    }),
  );
  // formatDuration writes what parseDuration reads back, for every timer Node can run.
  check(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (ms) => {
      assert.equal(parseDuration(formatDuration(ms)), ms, formatDuration(ms));
    }),
  );
});
