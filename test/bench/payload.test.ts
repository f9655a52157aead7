import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageRing } from '../../src/bench/payload.js';

describe('MessageRing', () => {
  test('holds count distinct messages of size bytes, back to back', () => {
    const ring = new MessageRing(16, 5);
    assert.equal(ring.size, 16);
    assert.equal(ring.bytes.length, 80);
    assert.notDeepEqual(ring.message(0), ring.message(1));
    assert.equal(ring.message(7), ring.message(2), 'message numbers wrap around the ring');
  });

  test('matches the byte stream split at every boundary and across the wrap', () => {
    const ring = new MessageRing(5, 3);
    const stream = Buffer.concat([ring.bytes, ring.bytes, ring.bytes]);
    for (let at = 0; at < 30; at += 1) {
      for (let end = at; end <= stream.length; end += 7) {
        assert.ok(ring.matches(stream.subarray(at, end), at), `bytes ${at}..${end}`);
      }
    }
  });

  test('finds a flipped byte, and counts each bad message once across two reads', () => {
    const ring = new MessageRing(4, 3);
    const stream = Buffer.concat([ring.bytes, ring.bytes]);
    stream[5] = (stream[5] as number) ^ 0xff; // message 1
    stream[6] = (stream[6] as number) ^ 0xff; // message 1 again, in the second read
    assert.equal(ring.matches(stream, 0), false);
    const first = ring.badMessages(stream.subarray(0, 6), 0, -1);
    assert.deepEqual(first, { bad: 1, last: 1 });
    const second = ring.badMessages(stream.subarray(6), 6, first.last);
    assert.deepEqual(second, { bad: 0, last: 1 });
  });

  test('catches bytes that arrive in the wrong order even when each byte is a valid one', () => {
    const ring = new MessageRing(8, 4);
    const swapped = Buffer.concat([ring.message(1), ring.message(0)]);
    assert.equal(ring.matches(swapped, 0), false);
  });

  test('applies an encoder to every message (a framing, for instance)', () => {
    const ring = new MessageRing(3, 2, (payload) => Buffer.concat([Buffer.from([payload.length]), payload]));
    assert.equal(ring.size, 4);
    assert.equal(ring.message(1)[0], 3);
  });
});
