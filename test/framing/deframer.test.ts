import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Deframer } from '../../src/framing/deframer.js';
import { lengthPrefixCodec } from '../../src/framing/length-prefix.js';
import { lineCodec } from '../../src/framing/line.js';

describe('Deframer', () => {
  test('gathers a 1 MiB length-prefixed frame from 1 KiB chunks, and counts what it holds', () => {
    const codec = lengthPrefixCodec('len32', { maxFrameSize: 2 << 20 });
    const payload = Buffer.alloc(1 << 20);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const bytes = Buffer.concat([codec.encode(payload), codec.encode('next')]);
    const deframer = new Deframer(codec);
    const frames: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 1024) {
      for (const frame of deframer.push(bytes.subarray(at, at + 1024))) frames.push(frame);
      if (frames.length === 0) assert.equal(deframer.buffered, Math.min(at + 1024, bytes.length));
    }
    assert.equal(frames.length, 2);
    assert.ok((frames[0] as Buffer).equals(payload));
    assert.equal(frames[1]?.toString(), 'next');
    assert.equal(deframer.buffered, 0);
  });

  test('keeps earlier frames valid after later pushes', () => {
    const deframer = new Deframer(lineCodec());
    const [first] = [...deframer.push(Buffer.from('one\ntw'))];
    [...deframer.push(Buffer.from('o\n'))];
    assert.equal(first?.toString(), 'one');
  });

  test('reports a frame cut short at the end even while gathering chunks', () => {
    const deframer = new Deframer(lengthPrefixCodec('len16'));
    [...deframer.push(Buffer.from([0, 10, 1, 2]))];
    [...deframer.push(Buffer.from([3]))];
    assert.throws(() => deframer.end(), /stream ended in the middle of a frame \(5 bytes left over\)/);
  });
});
