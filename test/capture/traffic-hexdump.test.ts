import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTrafficChunk, formatTrafficEvent } from '../../src/capture/traffic-hexdump.js';

describe('the traffic hex dump', () => {
  test('shows a sent chunk with its connection, time, direction, offsets, hex and text', () => {
    const text = formatTrafficChunk({
      connection: 3,
      elapsed: 1234.5,
      direction: 'out',
      offset: 0x20,
      data: Buffer.from('GET / HTTP/1.0\r\nHost: a\r\n'),
    });
    assert.equal(
      text,
      '#3 +1.234s > sent 25 bytes\n' +
        '  00000020  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|\n' +
        '  00000030  48 6f 73 74 3a 20 61 0d  0a                       |Host: a..|\n',
    );
  });

  test('shows a received datagram with its peer, and a one-byte chunk in the singular', () => {
    assert.equal(
      formatTrafficChunk({
        connection: 1,
        elapsed: 0,
        direction: 'in',
        offset: 0,
        data: Buffer.of(0xff),
        peer: '[::1]:7',
      }),
      '#1 +0.000s < received 1 byte from [::1]:7\n' +
        // 16 columns of 3 characters, one more between the two groups of 8, then 2 before the text.
        `  00000000  ff${' '.repeat(46)}  |.|\n`,
    );
  });

  test('collapses a run of equal lines into one star, and always shows the last line', () => {
    const text = formatTrafficChunk({
      connection: 1,
      elapsed: 5,
      direction: 'out',
      offset: 0,
      data: Buffer.alloc(64, 0x41),
    });
    assert.equal(
      text,
      '#1 +0.005s > sent 64 bytes\n' +
        '  00000000  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|\n' +
        '  *\n' +
        '  00000030  41 41 41 41 41 41 41 41  41 41 41 41 41 41 41 41  |AAAAAAAAAAAAAAAA|\n',
    );
  });

  test('an event without bytes is one line with the same heading', () => {
    assert.equal(formatTrafficEvent(2, 61_000, 'closed'), '#2 +61.000s closed\n');
  });
});
