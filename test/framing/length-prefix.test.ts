import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameTooLargeError, SockkitError } from '../../src/errors.js';
import { type LengthPrefix, lengthPrefixCodec } from '../../src/framing/length-prefix.js';
import { deframeChunks, everySplit } from './split.js';

describe('lengthPrefixCodec', () => {
  test('writes the length big-endian before the payload', () => {
    assert.deepEqual(lengthPrefixCodec('len8').encode('hi'), Buffer.from([2, 0x68, 0x69]));
    assert.deepEqual(lengthPrefixCodec('len16').encode('hi'), Buffer.from([0, 2, 0x68, 0x69]));
    assert.deepEqual(lengthPrefixCodec('len32').encode('hi'), Buffer.from([0, 0, 0, 2, 0x68, 0x69]));
    assert.deepEqual(lengthPrefixCodec('varint').encode('hi'), Buffer.from([2, 0x68, 0x69]));
    assert.deepEqual(lengthPrefixCodec('len16').encode(''), Buffer.from([0, 0]));
  });

  test('reads a 300-byte frame with a two-byte varint header', () => {
    const bytes = Buffer.concat([Buffer.from([0xac, 0x02]), Buffer.alloc(300, 0x61), Buffer.from('x')]);
    const decoded = lengthPrefixCodec('varint').decode(bytes);
    assert.equal(decoded?.frame.length, 300);
    assert.equal(decoded?.used, 302);
  });

  test('needs more while the header or the payload is incomplete', () => {
    const codec = lengthPrefixCodec('len32');
    assert.equal(codec.decode(Buffer.from([0, 0, 0])), undefined);
    assert.equal(codec.decode(Buffer.from([0, 0, 0, 3, 0x61, 0x62])), undefined);
  });

  test('finds the same frames however the bytes are split', () => {
    const bytes = Buffer.from([0, 1, 0x41, 0, 0, 0, 3, 0x0a, 0x00, 0xff, 0, 2, 0x42, 0x43]);
    for (const chunks of everySplit(bytes)) {
      assert.deepEqual(deframeChunks(lengthPrefixCodec('len16'), chunks), ['A', '', '\n\u0000\u00ff', 'BC']);
    }
  });

  test('rejects an announced length over the maximum before any payload arrives', () => {
    const codec = lengthPrefixCodec('len32', { maxFrameSize: 1024 });
    assert.throws(
      () => codec.decode(Buffer.from([0, 0, 4, 1])),
      (err: unknown) =>
        err instanceof FrameTooLargeError &&
        err.size === 1025 &&
        err.message === 'decode len32: frame of 1025 bytes exceeds the maximum of 1024 bytes',
    );
  });

  test('a varint header cut short at the limit reports an at-least size; a whole one the exact size', () => {
    const codec = lengthPrefixCodec('varint', { maxFrameSize: 100 });
    assert.throws(
      () => codec.decode(Buffer.from([0xff])),
      (err: unknown) =>
        err instanceof FrameTooLargeError &&
        err.atLeast &&
        err.size === 127 &&
        err.message === 'decode varint: frame of at least 127 bytes exceeds the maximum of 100 bytes',
    );
    assert.throws(
      () => codec.decode(Buffer.from([0x65])),
      (err: unknown) =>
        err instanceof FrameTooLargeError &&
        !err.atLeast &&
        err.message === 'decode varint: frame of 101 bytes exceeds the maximum of 100 bytes',
    );
  });

  test('reports a stream cut inside a frame as a protocol error', () => {
    for (const cut of [[0], [0, 3, 0x61]]) {
      assert.throws(
        () => deframeChunks(lengthPrefixCodec('len16'), [Buffer.from(cut)]),
        (err: unknown) =>
          err instanceof SockkitError &&
          err.code === 'ERR_PROTOCOL' &&
          /stream ended in the middle of a frame/.test(err.message),
      );
    }
  });

  test('refuses a maximum its header cannot express, and frames over the maximum', () => {
    assert.throws(() => lengthPrefixCodec('len8', { maxFrameSize: 256 }), RangeError);
    assert.equal(lengthPrefixCodec('len8').maxFrameSize, 255);
    assert.throws(() => lengthPrefixCodec('len16', { maxFrameSize: 3 }).encode('abcd'), FrameTooLargeError);
  });

  test('round-trips any frames with every header, split anywhere', () => {
    const prefix = fc.constantFrom<LengthPrefix>('len8', 'len16', 'len32', 'varint');
    fc.assert(
      fc.property(
        prefix,
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.nat(2000),
        (p, frames, cut) => {
          const codec = lengthPrefixCodec(p, { maxFrameSize: p === 'len8' ? 255 : 300 });
          const fitting = frames.map((f) => f.subarray(0, codec.maxFrameSize));
          const bytes = Buffer.concat(fitting.map((f) => codec.encode(f)));
          const at = Math.min(cut, bytes.length);
          assert.deepEqual(
            deframeChunks(codec, [bytes.subarray(0, at), bytes.subarray(at)]),
            fitting.map((f) => Buffer.from(f).toString('latin1')),
          );
        },
      ),
    );
  });
});
