import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import {
  decodeSocks5Datagram,
  decodeSocks5Greeting,
  decodeSocks5Login,
  decodeSocks5Request,
  encodeSocks5Datagram,
  encodeSocks5Reply,
  isUnsupportedAddressType,
  Socks5Reply,
} from '../../src/proxy/socks5-codec.js';
import { checkEverySplit } from './split.js';

const isProtocolError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_PROTOCOL';

describe('SOCKS5 codec', () => {
  test('reads a greeting offering no login and a password, at every split point', () => {
    checkEverySplit(decodeSocks5Greeting, Buffer.from([5, 2, 0, 2]), { methods: [0, 2] });
  });

  test('reads an RFC 1929 login at every split point', () => {
    const bytes = Buffer.from([1, 5, ...Buffer.from('alice'), 6, ...Buffer.from('s3cret')]);
    checkEverySplit(decodeSocks5Login, bytes, { username: 'alice', password: 's3cret' });
  });

  test('reads a CONNECT to a name, an IPv4 and an IPv6 address at every split point', () => {
    checkEverySplit(
      decodeSocks5Request,
      Buffer.from([5, 1, 0, 3, 12, ...Buffer.from('example.test'), 0, 80]),
      {
        command: 1,
        host: 'example.test',
        port: 80,
      },
    );
    checkEverySplit(decodeSocks5Request, Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]), {
      command: 1,
      host: '127.0.0.1',
      port: 8080,
    });
    const v6 = Buffer.from([5, 3, 0, 4, ...Buffer.alloc(15), 1, 0, 7]);
    checkEverySplit(decodeSocks5Request, v6, { command: 3, host: '::1', port: 7 });
  });

  test('refuses a wrong version at the first byte, without waiting for more', () => {
    assert.throws(() => decodeSocks5Greeting(Buffer.from([4])), isProtocolError);
    assert.throws(() => decodeSocks5Request(Buffer.from([4, 1])), isProtocolError);
    assert.throws(() => decodeSocks5Login(Buffer.from([5])), isProtocolError);
  });

  test('refuses a greeting with no method, and names an unknown address type', () => {
    assert.throws(() => decodeSocks5Greeting(Buffer.from([5, 0])), isProtocolError);
    assert.throws(
      () => decodeSocks5Request(Buffer.from([5, 1, 0, 9, 1, 2])),
      (err: unknown) => isProtocolError(err) && isUnsupportedAddressType(err),
    );
    assert.throws(() => decodeSocks5Request(Buffer.from([5, 1, 0, 3, 0, 0, 80])), isProtocolError);
  });

  test('writes a reply with the bound address', () => {
    assert.deepEqual(
      encodeSocks5Reply(Socks5Reply.succeeded, '127.0.0.1', 1080),
      Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38]),
    );
    assert.deepEqual(encodeSocks5Reply(Socks5Reply.notAllowed), Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
  });

  test('a UDP datagram wrapped for a name, an IPv4 or an IPv6 address unwraps to the same', () => {
    for (const host of ['example.test', '192.0.2.7', '2001:db8::1']) {
      const datagram = encodeSocks5Datagram(host, 53, Buffer.from('query'));
      const back = decodeSocks5Datagram(datagram);
      assert.deepEqual(
        { ...back, data: back.data.toString() },
        { fragment: 0, host, port: 53, data: 'query' },
      );
    }
    assert.throws(() => decodeSocks5Datagram(Buffer.from([0, 1, 0, 1, 1, 2, 3, 4, 0, 1])), isProtocolError);
    assert.throws(() => decodeSocks5Datagram(Buffer.from([0, 0, 0, 1, 1, 2])), isProtocolError);
  });

  test('any bytes decode to a message, need more, or a ProtocolError: nothing else (fuzzed)', () => {
    const decoders = [decodeSocks5Greeting, decodeSocks5Login, decodeSocks5Request];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of decoders) {
          try {
            const found = decode(Buffer.from(bytes));
            if (found) assert.ok(found.used > 0 && found.used <= bytes.length);
          } catch (err) {
            assert.ok(isProtocolError(err), String(err));
          }
        }
        try {
          decodeSocks5Datagram(Buffer.from(bytes));
        } catch (err) {
          assert.ok(isProtocolError(err), String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('a valid request decodes the same whatever follows it, and whole only (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain({ size: 'small' })),
        fc.integer({ min: 0, max: 65535 }),
        fc.uint8Array({ maxLength: 20 }),
        (command, host, port, after) => {
          const request = Buffer.concat([
            Buffer.from([5, command, 0]),
            encodeSocks5Datagram(host, port, Buffer.alloc(0)).subarray(3),
          ]);
          const found = decodeSocks5Request(Buffer.concat([request, after]));
          assert.equal(found?.used, request.length);
          assert.equal(found?.value.port, port);
          assert.equal(decodeSocks5Request(request.subarray(0, request.length - 1)), undefined);
        },
      ),
      { numRuns: 500 },
    );
  });
});
