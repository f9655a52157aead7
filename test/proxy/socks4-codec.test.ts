import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { decodeSocks4Request, encodeSocks4Reply, Socks4Reply } from '../../src/proxy/socks4-codec.js';
import { checkEverySplit } from './split.js';

const isProtocolError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_PROTOCOL';

describe('SOCKS4a codec', () => {
  test('reads a SOCKS4 CONNECT to an IPv4 address at every split point', () => {
    const bytes = Buffer.from([4, 1, 0, 80, 192, 0, 2, 7, ...Buffer.from('bob'), 0]);
    checkEverySplit(decodeSocks4Request, bytes, { command: 1, host: '192.0.2.7', port: 80, userId: 'bob' });
  });

  test('reads a SOCKS4a CONNECT to a name (0.0.0.1 then the name) at every split point', () => {
    const bytes = Buffer.from([4, 1, 0x1f, 0x90, 0, 0, 0, 1, 0, ...Buffer.from('example.test'), 0]);
    checkEverySplit(decodeSocks4Request, bytes, { command: 1, host: 'example.test', port: 8080, userId: '' });
  });

  test('refuses another version at once, an overlong user id or name, and an empty name', () => {
    assert.throws(() => decodeSocks4Request(Buffer.from([5])), isProtocolError);
    assert.throws(
      () =>
        decodeSocks4Request(Buffer.concat([Buffer.from([4, 1, 0, 80, 1, 2, 3, 4]), Buffer.alloc(300, 0x61)])),
      isProtocolError,
    );
    const longName = Buffer.concat([Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, 0]), Buffer.alloc(300, 0x61)]);
    assert.throws(() => decodeSocks4Request(longName), isProtocolError);
    assert.throws(() => decodeSocks4Request(Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, 0, 0])), isProtocolError);
  });

  test('writes the 8-byte answer', () => {
    assert.deepEqual(encodeSocks4Reply(Socks4Reply.granted), Buffer.from([0, 90, 0, 0, 0, 0, 0, 0]));
  });

  test('any bytes decode to a request, need more, or a ProtocolError (fuzzed)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, asSocks4) => {
        const input = Buffer.from(bytes);
        if (asSocks4 && input.length > 0) input[0] = 4;
        try {
          const found = decodeSocks4Request(input);
          if (found) assert.ok(found.used >= 9 && found.used <= input.length);
        } catch (err) {
          assert.ok(isProtocolError(err), String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
