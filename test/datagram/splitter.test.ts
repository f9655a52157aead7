import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DatagramSplitter } from '../../src/datagram/splitter.js';

const text = (buffers: Buffer[]): string[] => buffers.map((b) => b.toString());

test('each chunk is one datagram by default', () => {
  const splitter = new DatagramSplitter(100);
  assert.deepEqual(text(splitter.push(Buffer.from('a\nb\n'))), ['a\nb\n']);
  assert.deepEqual(text(splitter.push(Buffer.from('c'))), ['c']);
  assert.deepEqual(splitter.end(), []);
});

test('a chunk larger than a datagram is split at the limit, every byte kept in order', () => {
  const splitter = new DatagramSplitter(4);
  assert.deepEqual(text(splitter.push(Buffer.from('0123456789'))), ['0123', '4567', '89']);
});

test('in line mode each line, newline included, is one datagram, whatever the chunking', () => {
  const input = 'first\nsecond\n\nlast';
  for (let cut = 0; cut <= input.length; cut += 1) {
    const splitter = new DatagramSplitter(100, true);
    const out = [
      ...splitter.push(Buffer.from(input.slice(0, cut))),
      ...splitter.push(Buffer.from(input.slice(cut))),
      ...splitter.end(),
    ];
    assert.deepEqual(text(out), ['first\n', 'second\n', '\n', 'last'], `cut at ${cut}`);
  }
});

test('in line mode a line longer than a datagram goes out in full datagrams, the rest waits', () => {
  const splitter = new DatagramSplitter(4, true);
  assert.deepEqual(text(splitter.push(Buffer.from('abcdefghij'))), ['abcd', 'efgh']);
  assert.deepEqual(text(splitter.push(Buffer.from('k\nxy'))), ['ijk\n']);
  assert.deepEqual(text(splitter.end()), ['xy']);
});

test('a splitter needs a positive maximum', () => {
  assert.throws(() => new DatagramSplitter(0), RangeError);
});

test('for any input and any chunking, the datagrams concatenate to the input and none exceeds the limit', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
      fc.integer({ min: 1, max: 20 }),
      fc.boolean(),
      (chunks, max, lines) => {
        const splitter = new DatagramSplitter(max, lines);
        const out = [...chunks.flatMap((c) => splitter.push(Buffer.from(c))), ...splitter.end()];
        assert.ok(Buffer.concat(out).equals(Buffer.concat(chunks.map((c) => Buffer.from(c)))));
        for (const datagram of out) assert.ok(datagram.length > 0 && datagram.length <= max);
        if (lines) {
          // Every datagram but the last ends a line or is full: a line is never cut short.
          for (const datagram of out.slice(0, -1)) {
            assert.ok(datagram.at(-1) === 0x0a || datagram.length === max);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
