import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SockkitError } from '../../src/errors.js';
import { decodeVarint, encodeVarint } from '../../src/framing/varint.js';

describe('varint', () => {
  test('encodes the protobuf examples byte for byte', () => {
    assert.deepEqual(encodeVarint(0), Buffer.from([0x00]));
    assert.deepEqual(encodeVarint(1), Buffer.from([0x01]));
    assert.deepEqual(encodeVarint(127), Buffer.from([0x7f]));
    assert.deepEqual(encodeVarint(128), Buffer.from([0x80, 0x01]));
    assert.deepEqual(encodeVarint(150), Buffer.from([0x96, 0x01]));
    assert.deepEqual(encodeVarint(300), Buffer.from([0xac, 0x02]));
    assert.deepEqual(encodeVarint(2 ** 32), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]));
  });

  test('decodes a value and the bytes it used, ignoring what follows', () => {
    assert.deepEqual(decodeVarint(Buffer.from([0xac, 0x02, 0xff])), { value: 300, used: 2 });
  });

  test('needs more when every byte so far has the continuation bit', () => {
    assert.equal(decodeVarint(Buffer.from([])), undefined);
    assert.equal(decodeVarint(Buffer.from([0x80])), undefined);
    assert.equal(decodeVarint(Buffer.from([0xff, 0xff])), undefined);
  });

  test('rejects a varint longer than ten bytes as a protocol error', () => {
    assert.throws(
      () => decodeVarint(Buffer.alloc(11, 0x80)),
      (err: unknown) =>
        err instanceof SockkitError &&
        err.code === 'ERR_PROTOCOL' &&
        err.message === 'decode varint: malformed length: a varint longer than 10 bytes',
    );
  });

  test('stops early once the value passes a bound, saying the value is only a lower bound', () => {
    assert.deepEqual(decodeVarint(Buffer.from([0xff, 0xff]), 100), { value: 127, used: 1, atLeast: true });
  });

  test('a value over the bound in the last byte is exact', () => {
    assert.deepEqual(decodeVarint(Buffer.from([0x7f, 0xff]), 100), { value: 127, used: 1 });
    assert.deepEqual(decodeVarint(Buffer.from([0x80, 0x01]), 100), { value: 128, used: 2 });
  });

  test('a value past 2^53-1 is reported as at least 2^53, not as a wrong exact number', () => {
    assert.throws(
      () => decodeVarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
      (err: unknown) =>
        err instanceof SockkitError &&
        err.code === 'ERR_PROTOCOL' &&
        err.message ===
          'decode varint: length out of range: a varint of at least 2^53 (the largest read is 2^53-1)',
    );
  });

  test('refuses negative and fractional values', () => {
    assert.throws(() => encodeVarint(-1), RangeError);
    assert.throws(() => encodeVarint(1.5), RangeError);
  });

  test('round-trips every safe whole number', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const bytes = encodeVarint(n);
        assert.deepEqual(decodeVarint(bytes), { value: n, used: bytes.length });
      }),
    );
  });
});
