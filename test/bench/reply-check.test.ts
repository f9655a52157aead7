import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Mismatch, ReplyReader } from '../../src/bench/reply-check.js';
import { RequestTemplate } from '../../src/bench/request-template.js';
import { FrameTooLargeError } from '../../src/errors.js';
import { codecFor } from '../../src/framing/frame-names.js';

/** feed gives `bytes` to `reader` split at `cut`, and returns the replies completed. */
function feed(reader: ReplyReader, bytes: Buffer, cut: number, outstanding: number): number {
  const first = reader.consume(bytes.subarray(0, cut), cut, outstanding);
  if (reader.overrun) return first;
  return first + reader.consume(bytes.subarray(cut), bytes.length - cut, outstanding - first);
}

describe('ReplyReader', () => {
  const pong = { kind: 'exact', expect: new RequestTemplate(Buffer.from('+PONG\r\n'), false) } as const;

  test('counts replies of the expected length split at every boundary, and flags the one that differs', () => {
    const wire = Buffer.from('+PONG\r\n+PANG\r\n+PONG\r\n');
    for (let cut = 0; cut <= wire.length; cut += 1) {
      const bad: Mismatch[] = [];
      const reader = new ReplyReader({ kind: 'expect' }, pong, 3, (m) =>
        bad.push({ ...m, received: Buffer.from(m.received) }),
      );
      assert.equal(feed(reader, wire, cut, 3), 3, `cut ${cut}`);
      assert.equal(bad.length, 1, `cut ${cut}`);
      assert.equal(bad[0]?.sequence, 1);
      assert.equal(bad[0]?.connection, 3);
      assert.equal(bad[0]?.received.toString(), '+PANG\r\n');
    }
  });

  test('counts the replies owed and flags the bytes no request asked for', () => {
    const reader = new ReplyReader({ kind: 'expect' }, pong, 0, () => {});
    assert.equal(reader.consume(Buffer.from('+PONG\r\n+'), 8, 1), 1);
    assert.equal(reader.overrun, true);
  });

  test('checks an expected reply that names the connection and the sequence', () => {
    const check = {
      kind: 'exact',
      expect: new RequestTemplate(Buffer.from('v{conn}.{seq}\n'), false),
    } as const;
    const bad: number[] = [];
    const reader = new ReplyReader({ kind: 'expect' }, check, 4, (m) => bad.push(m.sequence));
    const wire = Buffer.from('v4.0\nv4.1\nv4.3\nv4.3\n');
    assert.equal(reader.consume(wire, wire.length, 4), 4);
    assert.deepEqual(bad, [2]);
  });

  test('ends line replies at each line feed and checks them with a regular expression', () => {
    const wire = Buffer.from(':1\r\n:22\r\nERR x\r\n');
    for (let cut = 0; cut <= wire.length; cut += 1) {
      const bad: string[] = [];
      const reader = new ReplyReader(
        { kind: 'frame', codec: codecFor('line'), payload: false },
        { kind: 'match', pattern: /^:\d+\r\n$/s },
        0,
        (m) => bad.push(m.received.toString()),
      );
      assert.equal(feed(reader, wire, cut, 3), 3, `cut ${cut}`);
      assert.deepEqual(bad, ['ERR x\r\n'], `cut ${cut}`);
    }
  });

  test('checks a length-prefixed reply by its payload', () => {
    const codec = codecFor('len16');
    const wire = Buffer.concat([codec.encode('ok'), codec.encode('no')]);
    const bad: string[] = [];
    const check = { kind: 'exact', expect: new RequestTemplate(Buffer.from('ok'), false) } as const;
    const reader = new ReplyReader({ kind: 'frame', codec, payload: true }, check, 0, (m) =>
      bad.push(m.received.toString()),
    );
    assert.equal(feed(reader, wire, 3, 2), 2);
    assert.deepEqual(bad, ['no']);
  });

  test('throws FrameTooLargeError for a frame over the maximum without waiting for it', () => {
    const codec = codecFor('len16', { maxFrameSize: 10 });
    const reader = new ReplyReader({ kind: 'frame', codec, payload: true }, { kind: 'none' }, 0, () => {});
    assert.throws(() => reader.consume(Buffer.from([0xff, 0xff, 1]), 3, 1), FrameTooLargeError);
  });

  test('reads fixed-size replies with a regular expression over the whole reply', () => {
    const bad: string[] = [];
    const reader = new ReplyReader(
      { kind: 'size', size: 4 },
      { kind: 'match', pattern: /^ok\d\d$/ },
      0,
      (m) => bad.push(m.received.toString()),
    );
    const wire = Buffer.from('ok12okxxok99');
    assert.equal(feed(reader, wire, 5, 3), 3);
    assert.deepEqual(bad, ['okxx']);
  });
});
