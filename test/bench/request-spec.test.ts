import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestProtocol } from '../../src/bench/request-spec.js';

const CRLF2 = Buffer.from('\r\n\r\n');

describe('RequestProtocol with the delimiter framing', () => {
  const spec = {
    requests: [Buffer.from('GET {seq}'), Buffer.from('HEAD\r\n\r\n')],
    expect: Buffer.from('ok {seq}\r\n\r\n'),
  };

  test('ends each request with the delimiter, unless it already ends with it', () => {
    const protocol = new RequestProtocol(spec, { frame: 'delimiter', delimiter: CRLF2 });
    assert.equal(protocol.request(0, 0).toString(), 'GET 0\r\n\r\n');
    assert.equal(protocol.request(0, 1).toString(), 'HEAD\r\n\r\n');
    assert.equal(protocol.request(0, 2).toString(), 'GET 2\r\n\r\n');
  });

  test('reads replies ending with a multi-byte delimiter split anywhere, checked with the delimiter', () => {
    const wire = Buffer.from('ok 0\r\n\r\nok 1\r\n\r\nok 9\r\n\r\n');
    const protocol = new RequestProtocol(spec, { frame: 'delimiter', delimiter: CRLF2 });
    for (let first = 0; first <= wire.length; first += 1) {
      for (let second = first; second <= wire.length; second += 1) {
        const bad: string[] = [];
        const reader = protocol.reader(0, (m) => bad.push(m.received.toString()));
        let replies = 0;
        for (const [from, to] of [
          [0, first],
          [first, second],
          [second, wire.length],
        ] as const) {
          const chunk = Buffer.from(wire.subarray(from, to)); // each read its own buffer, as a socket's are reused
          replies += reader.consume(chunk, chunk.length, 3 - replies);
          chunk.fill(0);
        }
        assert.equal(replies, 3, `cuts ${first}, ${second}`);
        assert.equal(reader.overrun, false);
        assert.deepEqual(bad, ['ok 9\r\n\r\n'], `cuts ${first}, ${second}`);
      }
    }
  });

  test('refuses the delimiter framing without a delimiter, as a usage error naming it', () => {
    assert.throws(() => new RequestProtocol(spec, { frame: 'delimiter' }), {
      code: 'ERR_USAGE',
      message: "bench: delimiter is needed with frame 'delimiter' (one byte or more)",
    });
  });
});
