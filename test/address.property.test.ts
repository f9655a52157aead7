/**
 * Property-based tests (fast-check) of the socket URL parser: every address formats to a URL that
 * parses back to the same value, and no input, however malformed, makes it throw anything but an
 * AddressError.
 */
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatAddress, type InetAddress, parseAddress, type SocketAddress } from '../src/address.js';
import { AddressError } from '../src/errors.js';

const runs = { numRuns: 500 };
const scheme = fc.constantFrom('tcp' as const, 'udp' as const, 'tls' as const);
const port = fc.integer({ min: 0, max: 65535 });
const inet = (host: fc.Arbitrary<string>): fc.Arbitrary<InetAddress> => fc.record({ scheme, host, port });

describe('parseAddress and formatAddress (properties)', () => {
  test('an IPv4 address and port survive a round trip through its URL', () => {
    fc.assert(
      fc.property(inet(fc.ipV4()), (address) => {
        assert.deepEqual(parseAddress(formatAddress(address)), { ...address });
      }),
      runs,
    );
  });

  test('an IPv6 address survives a round trip, written in brackets', () => {
    fc.assert(
      fc.property(inet(fc.ipV6()), (address) => {
        const url = formatAddress(address);
        assert.match(url, /^\w+:\/\/\[[^\]]+\]:\d+$/);
        assert.deepEqual(parseAddress(url), { ...address });
      }),
      runs,
    );
  });

  test('a domain name survives a round trip', () => {
    fc.assert(
      fc.property(inet(fc.domain()), (address) => {
        assert.deepEqual(parseAddress(formatAddress(address)), { ...address });
      }),
      runs,
    );
  });

  test('a Unix path or abstract name survives a round trip', () => {
    const path = fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 100 })
      .filter((s) => !s.includes('\0') && !s.startsWith('/'))
      .map((s) => `/tmp/${s}`)
      .filter((s) => Buffer.byteLength(s) <= 107);
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 });
    const unix = fc.oneof(
      path.map((p): SocketAddress => ({ scheme: 'unix', path: p, abstract: false })),
      name.map((n): SocketAddress => ({ scheme: 'unix', path: n, abstract: true })),
    );
    fc.assert(
      fc.property(unix, (address) => {
        assert.deepEqual(parseAddress(formatAddress(address)), { ...address });
      }),
      runs,
    );
  });

  test('every URL it accepts formats to a URL that parses back to the same address', () => {
    // Inputs built from the characters that carry meaning in a socket URL, so that most parse.
    const piece = fc.constantFrom(
      '/',
      '//',
      '@',
      ':',
      '.',
      '..',
      '[',
      ']',
      '%',
      '1',
      '80',
      'a',
      'é',
      ' ',
      '\0',
    );
    const tail = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    const prefix = fc.constantFrom('unix:', 'UNIX:', 'unix://', 'unix:@', 'tcp://', 'udp://[::1]', 'tls://a');
    const long = fc
      .tuple(fc.constantFrom('unix:/', 'unix:@', 'unix:'), fc.integer({ min: 100, max: 115 }), piece)
      .map(([p, n, last]) => `${p}${'x'.repeat(n)}${last}`);
    const url = fc.oneof(
      fc.tuple(prefix, tail).map(([p, t]) => p + t),
      long,
      fc.string({ maxLength: 30 }).map((s) => `unix:${s}`),
    );
    let accepted = 0;
    fc.assert(
      fc.property(url, (input) => {
        let address: SocketAddress;
        try {
          address = parseAddress(input);
        } catch (err) {
          assert.ok(err instanceof AddressError, `unexpected ${String(err)} for ${JSON.stringify(input)}`);
          return;
        }
        accepted++;
        const formatted = formatAddress(address);
        assert.deepEqual(parseAddress(formatted), address, `${JSON.stringify(input)} → ${formatted}`);
      }),
      {
        numRuns: 3000,
        examples: [['unix:////1'], ['unix:123'], ['unix://///'], ['unix:@@'], ['unix:/@x'], ['unix:./@x']],
      },
    );
    assert.ok(accepted > 500, `only ${accepted} inputs parsed: the generator no longer tests much`);
  });

  test('any port above 65535 is refused, naming the port', () => {
    fc.assert(
      fc.property(scheme, fc.ipV4(), fc.integer({ min: 65536, max: 10 ** 9 }), (s, host, p) => {
        assert.throws(
          () => parseAddress(`${s}://${host}:${p}`),
          (err: unknown) => err instanceof AddressError && err.message.includes(`port ${p} out of range`),
        );
      }),
      runs,
    );
  });

  test('any string either parses to a well-formed address or throws AddressError', () => {
    const noise = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ maxLength: 60 }).map((s) => `tcp://${s}`),
      fc.string({ maxLength: 60 }).map((s) => `udp://[${s}]:7`),
      fc.string({ maxLength: 60 }).map((s) => `unix:${s}`),
      fc.tuple(fc.ipV4(), fc.string({ maxLength: 8 })).map(([h, p]) => `tls://${h}:${p}`),
    );
    fc.assert(
      fc.property(noise, (url) => {
        let address: SocketAddress;
        try {
          address = parseAddress(url);
        } catch (err) {
          assert.ok(err instanceof AddressError, `unexpected ${String(err)} for ${JSON.stringify(url)}`);
          assert.equal(err.code, 'ERR_INVALID_ADDRESS');
          assert.ok(err.message.startsWith(`address ${JSON.stringify(url)}: `));
          return;
        }
        if (address.scheme === 'unix') {
          assert.ok((address.path.length > 0 && !address.path.includes('\0')) || address.abstract);
        } else {
          assert.ok(Number.isInteger(address.port) && address.port >= 0 && address.port <= 65535);
          assert.ok(address.host.length > 0);
          assert.ok(isIP(address.host) !== 0 || /^[A-Za-z0-9_.-]+$/.test(address.host));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
