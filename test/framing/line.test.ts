import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameTooLargeError } from '../../src/errors.js';
import { lineCodec } from '../../src/framing/line.js';
import { deframeChunks, everySplit } from './split.js';

describe('lineCodec', () => {
  test('encodes a line with LF by default and CRLF when asked', () => {
    assert.deepEqual(lineCodec().encode('hi'), Buffer.from('hi\n'));
    assert.deepEqual(lineCodec({ ending: 'crlf' }).encode('hi'), Buffer.from('hi\r\n'));
  });

  test('decodes a line and reports the bytes it used, including the ending', () => {
    assert.deepEqual(lineCodec().decode(Buffer.from('hi\nrest')), { frame: Buffer.from('hi'), used: 3 });
    assert.deepEqual(lineCodec().decode(Buffer.from('hi\r\nrest')), { frame: Buffer.from('hi'), used: 4 });
  });

  test('needs more when no line feed has arrived, even after a carriage return', () => {
    assert.equal(lineCodec().decode(Buffer.from('')), undefined);
    assert.equal(lineCodec().decode(Buffer.from('hi')), undefined);
    assert.equal(lineCodec().decode(Buffer.from('hi\r')), undefined);
  });

  test('finds the same lines however the bytes are split, LF and CRLF mixed', () => {
    const bytes = Buffer.from('one\r\ntwo\n\nthree\r\n\r\nfour');
    for (const chunks of everySplit(bytes)) {
      assert.deepEqual(deframeChunks(lineCodec(), chunks), ['one', 'two', '', 'three', '', 'four']);
    }
  });

  test('keeps a lone carriage return inside a line and is binary-safe otherwise', () => {
    const bytes = Buffer.from([0x61, 0x0d, 0x62, 0x00, 0xff, 0x0a]);
    for (const chunks of everySplit(bytes)) {
      assert.deepEqual(deframeChunks(lineCodec(), chunks), ['a\rb\u0000\u00ff']);
    }
  });

  test('accepts a line of exactly the maximum length, with either ending', () => {
    const codec = lineCodec({ maxLength: 4 });
    assert.deepEqual(codec.decode(Buffer.from('abcd\n'))?.frame, Buffer.from('abcd'));
    assert.deepEqual(codec.decode(Buffer.from('abcd\r\n'))?.frame, Buffer.from('abcd'));
    assert.equal(codec.decode(Buffer.from('abcd\r')), undefined);
  });

  test('rejects a line over the maximum as soon as it is one byte too long, without its end', () => {
    const codec = lineCodec({ maxLength: 4 });
    assert.throws(
      () => codec.decode(Buffer.from('abcde')),
      (err: unknown) =>
        err instanceof FrameTooLargeError &&
        err.code === 'ERR_FRAME_TOO_LARGE' &&
        err.message === 'decode line: frame of at least 5 bytes exceeds the maximum of 4 bytes',
    );
    assert.throws(() => codec.decode(Buffer.from('abcde\n')), FrameTooLargeError);
    assert.throws(() => codec.decode(Buffer.from('abcd\r\r')), FrameTooLargeError);
  });

  test('rejects an oversize line split across chunks before the rest of it arrives', () => {
    for (const chunks of everySplit(Buffer.from('ok\nabcdefgh'))) {
      assert.throws(() => deframeChunks(lineCodec({ maxLength: 4 }), chunks), FrameTooLargeError);
    }
  });

  test('returns a last line without its ending at the end of the stream', () => {
    assert.deepEqual(deframeChunks(lineCodec(), [Buffer.from('a\nb')]), ['a', 'b']);
    assert.deepEqual(deframeChunks(lineCodec(), [Buffer.from('a\nb\r')]), ['a', 'b']);
  });

  test('refuses to encode what it could not decode back', () => {
    assert.throws(() => lineCodec().encode('a\nb'), RangeError);
    assert.throws(() => lineCodec().encode('a\r'), RangeError);
    assert.throws(() => lineCodec({ maxLength: 2 }).encode('abc'), FrameTooLargeError);
    assert.throws(() => lineCodec({ maxLength: 0 }), RangeError);
  });

  test('round-trips any list of lines, concatenated and split anywhere', () => {
    const line = fc
      .uint8Array({ maxLength: 40 })
      .map((b) => Buffer.from(b).toString('latin1').replaceAll('\n', '').replace(/\r+$/, ''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.nat(400), fc.boolean(), (lines, cut, crlf) => {
        const codec = lineCodec({ ending: crlf ? 'crlf' : 'lf' });
        const bytes = Buffer.concat(lines.map((l) => codec.encode(Buffer.from(l, 'latin1'))));
        const at = Math.min(cut, bytes.length);
        assert.deepEqual(deframeChunks(codec, [bytes.subarray(0, at), bytes.subarray(at)]), lines);
      }),
    );
  });
});
