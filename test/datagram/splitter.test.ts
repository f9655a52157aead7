import assert from 'node:assert/strict';
import { test } from 'node:test';
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
