import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameTooLargeError } from '../../src/errors.js';
import { delimiterCodec } from '../../src/framing/delimiter.js';
import { deframeChunks, everySplit } from './split.js';

describe('delimiterCodec', () => {
  test('splits at a multi-byte delimiter however the bytes are split', () => {
    const bytes = Buffer.from('a||bb||||c||');
    for (const chunks of everySplit(bytes)) {
      assert.deepEqual(deframeChunks(delimiterCodec('||'), chunks), ['a', 'bb', '', 'c']);
    }
  });

  test('splits at a NUL byte', () => {
    const codec = delimiterCodec(Buffer.from([0]));
    assert.deepEqual(codec.decode(Buffer.from([1, 2, 0, 3])), { frame: Buffer.from([1, 2]), used: 3 });
    assert.deepEqual(codec.encode(Buffer.from([7])), Buffer.from([7, 0]));
  });

  test('accepts a frame of the maximum size and rejects one byte more, even before its delimiter', () => {
    const codec = delimiterCodec('||', { maxFrameSize: 3 });
    assert.deepEqual(codec.decode(Buffer.from('abc||'))?.frame, Buffer.from('abc'));
    assert.equal(codec.decode(Buffer.from('abc|')), undefined);
    assert.throws(() => codec.decode(Buffer.from('abcd|')), FrameTooLargeError);
    assert.throws(() => codec.decode(Buffer.from('abcd||')), FrameTooLargeError);
  });

  test('refuses an empty delimiter and a frame holding the delimiter', () => {
    assert.throws(() => delimiterCodec(''), RangeError);
    assert.throws(() => delimiterCodec('|').encode('a|b'), RangeError);
  });

  test('refuses a frame whose last bytes make a delimiter with the one appended, which would decode as a shorter frame', () => {
    const codec = delimiterCodec('\r\n\r\n');
    // `a\r\n` + `\r\n\r\n` reads back as `a` and then `\r\n`: the fuzz found it with [2] and [2, 2].
    assert.throws(() => codec.encode('a\r\n'), {
      name: 'RangeError',
      message: 'delimiter: a frame must not contain its delimiter, nor end in bytes that make one with it',
    });
    assert.throws(() => delimiterCodec(Uint8Array.from([2, 2])).encode(Uint8Array.from([2])), RangeError);
    // Ending in the delimiter's first byte is fine when no delimiter forms earlier.
    const crlf = delimiterCodec('\r\n');
    assert.deepEqual(crlf.decode(crlf.encode('a\r')), { frame: Buffer.from('a\r'), used: 4 });
  });

  test('round-trips frames that do not hold the delimiter', () => {
    const codec = delimiterCodec(Buffer.from([0xfe, 0xff]));
    const frame = fc
      .uint8Array({ maxLength: 30 })
      .filter((b) => !Buffer.from(b).includes(Buffer.from([0xfe, 0xff])));
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 6 }), fc.nat(200), (frames, cut) => {
        const bytes = Buffer.concat(frames.map((f) => codec.encode(f)));
        const at = Math.min(cut, bytes.length);
        const got = deframeChunks(codec, [bytes.subarray(0, at), bytes.subarray(at)]);
        // A last frame that ends in 0xfe merges with nothing: every frame was terminated.
        assert.deepEqual(
          got,
          frames.map((f) => Buffer.from(f).toString('latin1')),
        );
      }),
    );
  });
});
