import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codecFor, FRAME_NAMES, isTextFraming } from '../../src/framing/frame-names.js';
import { deframeChunks, everySplit } from './split.js';

describe('codecFor', () => {
  test('names the delimiter framing, and its codec ends frames at a multi-byte delimiter however split', () => {
    assert.ok(FRAME_NAMES.includes('delimiter'));
    const codec = codecFor('delimiter', { delimiter: '\r\n\r\n' });
    assert.equal(codec.name, 'delimiter');
    for (const chunks of everySplit(Buffer.from('a\r\nb\r\n\r\n\r\n\r\nc\r\n\r\n'))) {
      assert.deepEqual(deframeChunks(codec, chunks), ['a\r\nb', '', 'c']);
    }
    assert.deepEqual(codec.encode('hi'), Buffer.from('hi\r\n\r\n'));
  });

  test('bounds a delimited frame by maxFrameSize', () => {
    const codec = codecFor('delimiter', { delimiter: Buffer.from([0]), maxFrameSize: 2 });
    assert.equal(codec.maxFrameSize, 2);
    assert.throws(() => codec.decode(Buffer.from('abc')), { code: 'ERR_FRAME_TOO_LARGE' });
  });

  test('refuses the delimiter framing without a delimiter, and a delimiter for another framing', () => {
    assert.throws(() => codecFor('delimiter'), { name: 'RangeError', message: /needs a delimiter/ });
    assert.throws(() => codecFor('delimiter', { delimiter: '' }), RangeError);
    assert.throws(() => codecFor('len16', { delimiter: '\n' }), {
      name: 'RangeError',
      message: 'a delimiter is for the delimiter framing, not len16',
    });
  });

  test('tells the framings ended by bytes a person types from the length prefixes', () => {
    assert.deepEqual(
      FRAME_NAMES.filter((name) => isTextFraming(name)),
      ['line', 'delimiter'],
    );
  });
});
