import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { decodeHttpRequest, decodeHttpResponse, headerValue } from '../../src/proxy/http-head.js';
import { checkEverySplit } from './split.js';

const isProtocolError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_PROTOCOL';

describe('HTTP head codec', () => {
  test('reads a CONNECT request with its headers at every split point', () => {
    const bytes = Buffer.from(
      'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\nProxy-Authorization: Basic YTpi\r\n\r\n',
    );
    checkEverySplit(decodeHttpRequest, bytes, {
      method: 'CONNECT',
      target: 'example.test:443',
      version: 'HTTP/1.1',
      headers: [
        ['Host', 'example.test:443'],
        ['Proxy-Authorization', 'Basic YTpi'],
      ],
    });
  });

  test('accepts bare LF line ends, and leaves a body after the head alone', () => {
    const found = decodeHttpRequest(Buffer.from('GET http://a.test/x HTTP/1.0\nHost: a.test\n\nBODY'));
    assert.equal(found?.value.target, 'http://a.test/x');
    assert.equal(found?.used, 'GET http://a.test/x HTTP/1.0\nHost: a.test\n\n'.length);
  });

  test('reads a status line and finds a header by any case', () => {
    const bytes = Buffer.from(
      'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n',
    );
    checkEverySplit(decodeHttpResponse, bytes, {
      version: 'HTTP/1.1',
      status: 407,
      reason: 'Proxy Authentication Required',
      headers: [['Proxy-Authenticate', 'Basic']],
    });
    assert.equal(headerValue([['Proxy-Authenticate', 'Basic']], 'proxy-authenticate'), 'Basic');
  });

  test('refuses a malformed request line, a header without a colon, and a head past the maximum', () => {
    assert.throws(() => decodeHttpRequest(Buffer.from('HELLO\r\n\r\n')), isProtocolError);
    assert.throws(() => decodeHttpRequest(Buffer.from('GET / HTTP/2\r\n\r\n')), isProtocolError);
    assert.throws(() => decodeHttpRequest(Buffer.from('GET / HTTP/1.1\r\nNoColon\r\n\r\n')), isProtocolError);
    assert.throws(
      () => decodeHttpRequest(Buffer.from('GET / HTTP/1.1\r\nBad Name: x\r\n\r\n')),
      isProtocolError,
    );
    assert.throws(() => decodeHttpRequest(Buffer.alloc(100, 0x61), 64), isProtocolError);
    assert.equal(decodeHttpRequest(Buffer.alloc(63, 0x61), 64), undefined);
  });

  test('any bytes decode to a head, need more, or a ProtocolError (fuzzed)', () => {
    const httpish = fc.array(
      fc.oneof(
        fc.constantFrom(
          'GET ',
          'CONNECT ',
          'http://a.test/ ',
          'a:1 ',
          'HTTP/1.1',
          '\r\n',
          '\n',
          ': ',
          'Host',
          ' ',
        ),
        fc.string({ maxLength: 8 }),
      ),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          httpish.map((parts) => Buffer.from(parts.join(''), 'latin1')),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
        ),
        (bytes) => {
          for (const decode of [decodeHttpRequest, decodeHttpResponse]) {
            try {
              const found = decode(bytes, 128);
              if (found) assert.ok(found.used > 0 && found.used <= bytes.length);
              else assert.ok(bytes.length < 128);
            } catch (err) {
              assert.ok(isProtocolError(err), String(err));
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
