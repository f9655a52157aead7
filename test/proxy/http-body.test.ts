import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { ChunkedReader, requestFraming, responseFraming } from '../../src/proxy/http-body.js';
import type { HttpHeader } from '../../src/proxy/http-head.js';

const isProtocolError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_PROTOCOL';

const request = (headers: HttpHeader[], version = 'HTTP/1.1') => ({
  method: 'POST',
  target: 'http://a.test/',
  version,
  headers,
});
const response = (status: number, headers: HttpHeader[]) => ({
  version: 'HTTP/1.1',
  status,
  reason: '',
  headers,
});

/** readChunked feeds `bytes` to a ChunkedReader `cut` bytes at a time; returns what it passes on and what is left. */
function readChunked(bytes: Buffer, cut: number): { forwarded: Buffer; rest: Buffer } {
  const reader = new ChunkedReader();
  const out: Buffer[] = [];
  let held = Buffer.alloc(0);
  for (let offset = 0; !reader.done; ) {
    const step = reader.step(held);
    if (step) {
      out.push(Buffer.from(step.forward));
      held = held.subarray(step.used);
      continue;
    }
    assert.ok(offset < bytes.length, 'needs more bytes than the body has');
    held = Buffer.concat([held, bytes.subarray(offset, offset + cut)]);
    offset += cut;
  }
  return { forwarded: Buffer.concat(out), rest: held };
}

describe('HTTP body framing', () => {
  test('a request body is delimited by Content-Length, by chunked, or absent', () => {
    assert.deepEqual(requestFraming(request([['Content-Length', '12']])), { kind: 'length', length: 12 });
    assert.deepEqual(requestFraming(request([['Content-Length', '0']])), { kind: 'none' });
    assert.deepEqual(requestFraming(request([['Transfer-Encoding', 'chunked']])), { kind: 'chunked' });
    assert.deepEqual(requestFraming(request([['Transfer-Encoding', 'gzip, Chunked']])), { kind: 'chunked' });
    assert.deepEqual(requestFraming(request([])), { kind: 'none' });
  });

  test('refuses framing two parsers could read differently (request smuggling)', () => {
    const cases: [HttpHeader[], string?][] = [
      [
        [
          ['Content-Length', '5'],
          ['Transfer-Encoding', 'chunked'],
        ],
      ],
      [[['Transfer-Encoding', 'chunked']], 'HTTP/1.0'],
      [[['Transfer-Encoding', 'chunked, gzip']]],
      [[['Transfer-Encoding', 'chunked, chunked']]],
      [
        [
          ['Transfer-Encoding', 'chunked'],
          ['Transfer-Encoding', 'chunked'],
        ],
      ],
      [[['Transfer-Encoding', 'xchunked']]],
      [[['Transfer-Encoding', '']]],
      [
        [
          ['Content-Length', '5'],
          ['Content-Length', '6'],
        ],
      ],
      [[['Content-Length', '5, 5']]],
      [[['Content-Length', '+5']]],
      [[['Content-Length', '0x5']]],
      [[['Content-Length', '99999999999999999999']]],
    ];
    for (const [headers, version] of cases)
      assert.throws(
        () => requestFraming(request(headers, version)),
        isProtocolError,
        JSON.stringify(headers),
      );
  });

  test('a response body: none for HEAD, 1xx, 204 and 304; else chunked, a length, or until close', () => {
    const chunked: HttpHeader[] = [['Transfer-Encoding', 'chunked']];
    assert.deepEqual(responseFraming(response(200, [['Content-Length', '9']]), 'HEAD'), { kind: 'none' });
    for (const status of [100, 204, 304])
      assert.deepEqual(responseFraming(response(status, chunked), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(response(200, chunked), 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(response(200, [['Transfer-Encoding', 'gzip']]), 'GET'), {
      kind: 'close',
    });
    assert.deepEqual(responseFraming(response(200, [['Content-Length', '9']]), 'GET'), {
      kind: 'length',
      length: 9,
    });
    assert.deepEqual(responseFraming(response(200, []), 'GET'), { kind: 'close' });
    assert.throws(
      () => responseFraming(response(200, [...chunked, ['Content-Length', '9']]), 'GET'),
      isProtocolError,
    );
  });

  test('reads a chunked body with extensions and trailers at every split, and leaves what follows', () => {
    const body = Buffer.from(
      '5;name="x;y"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\n\r\nGET /next',
    );
    for (let cut = 1; cut <= body.length; cut += 1) {
      const { forwarded, rest } = readChunked(body, cut);
      assert.equal(
        forwarded.toString(),
        '5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 1\r\n\r\n',
        `cut ${cut}`,
      );
      assert.ok('GET /next'.startsWith(rest.toString()), `cut ${cut}: "${rest}"`);
    }
  });

  test('refuses a malformed chunked body: bare LF, bad size, missing CRLF, long lines, bad trailers', () => {
    const bad = [
      '5\nhello\r\n0\r\n\r\n',
      'g\r\n',
      '-1\r\n',
      ' 5\r\nhello\r\n',
      '00000000000000005\r\nhello\r\n',
      '5\r\nhelloXX0\r\n\r\n',
      '5\r\nhello\n0\r\n\r\n',
      `5;${'x'.repeat(5000)}\r\n`,
      '0\r\nno colon\r\n\r\n',
      '0\r\nX: y\n\r\n',
      `0\r\n${'X: y\r\n'.repeat(4000)}\r\n`,
      '5\r\nhello\r\n0\r\r\n\r\n',
    ];
    for (const text of bad) assert.throws(() => readChunked(Buffer.from(text), 7), isProtocolError, text);
  });

  test('any bytes read as chunked pass on, need more, or throw ProtocolError, within bounds (fuzzed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const reader = new ChunkedReader();
        let held = Buffer.from(bytes);
        try {
          for (let step = reader.step(held); step; step = reader.step(held)) {
            assert.ok(step.used > 0 && step.used <= held.length);
            held = held.subarray(step.used);
          }
        } catch (err) {
          assert.ok(isProtocolError(err), String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
