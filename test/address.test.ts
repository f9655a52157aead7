import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatAddress, parseAddress } from '../src/address.js';
import { AddressError } from '../src/errors.js';

describe('parseAddress', () => {
  const good: [string, object][] = [
    ['tcp://127.0.0.1:65432', { scheme: 'tcp', host: '127.0.0.1', port: 65432 }],
    ['tcp://[::1]:7', { scheme: 'tcp', host: '::1', port: 7 }],
    ['tcp://localhost:7', { scheme: 'tcp', host: 'localhost', port: 7 }],
    ['tcp://0.0.0.0:0', { scheme: 'tcp', host: '0.0.0.0', port: 0 }],
    ['tcp://[::]:7', { scheme: 'tcp', host: '::', port: 7 }],
    ['TCP://example.com:80/', { scheme: 'tcp', host: 'example.com', port: 80 }],
    ['udp://[fe80::1%eth0]:53', { scheme: 'udp', host: 'fe80::1%eth0', port: 53 }],
    ['udp://10.0.0.1:53', { scheme: 'udp', host: '10.0.0.1', port: 53 }],
    ['tls://my-host.example:443', { scheme: 'tls', host: 'my-host.example', port: 443 }],
    ['unix:/tmp/echo.sock', { scheme: 'unix', path: '/tmp/echo.sock', abstract: false }],
    ['unix:///tmp/echo.sock', { scheme: 'unix', path: '/tmp/echo.sock', abstract: false }],
    ['unix:relative.sock', { scheme: 'unix', path: 'relative.sock', abstract: false }],
    ['unix:@echo', { scheme: 'unix', path: 'echo', abstract: true }],
    ['unix:123', { scheme: 'unix', path: '123', abstract: false }],
    ['unix:////1', { scheme: 'unix', path: '//1', abstract: false }],
    ['unix:./@file', { scheme: 'unix', path: './@file', abstract: false }],
    [`unix:/${'x'.repeat(106)}`, { scheme: 'unix', path: `/${'x'.repeat(106)}`, abstract: false }],
    [`unix:@${'x'.repeat(107)}`, { scheme: 'unix', path: 'x'.repeat(107), abstract: true }],
  ];
  for (const [url, expected] of good) {
    test(`parses ${url}`, () => assert.deepEqual(parseAddress(url), expected));
  }

  const bad: [string, RegExp][] = [
    ['tcp://127.0.0.1', /missing port/],
    ['tcp://127.0.0.1:', /missing port/],
    ['tcp://127.0.0.1:65536', /port 65536 out of range/],
    ['tcp://127.0.0.1:http', /malformed port "http"/],
    ['tcp://127.0.0.1:-1', /malformed port "-1"/],
    ['ftp://host:21', /unknown scheme "ftp"/],
    ['127.0.0.1:80', /missing scheme.*did you mean tcp:\/\/127\.0\.0\.1:80\?/],
    ['localhost:80', /missing scheme.*did you mean tcp:\/\/localhost:80\?/],
    ['tcp:127.0.0.1:80', /expected "tcp:\/\/host:port"/],
    ['tcp://:80', /missing host/],
    ['tcp://::1:80', /IPv6 hosts need brackets/],
    ['tcp://[::1:80', /unclosed "\["/],
    ['tcp://[1.2.3.4]:80', /malformed IPv6 host/],
    ['tcp://1.2.3:80', /malformed host "1.2.3"/],
    ['tcp://bad_host!:80', /malformed host/],
    ['tcp://[::1]x:80', /unexpected "x:80" after host/],
    ['tcp://host:80/path', /unexpected path "\/path"/],
    ['unix:', /missing socket path/],
    ['unix:@', /empty abstract socket name/],
    ['unix://relative', /absolute path/],
    [`unix:/${'x'.repeat(120)}`, /socket path of 121 bytes is over the limit of 107 bytes/],
    [`unix:/${'é'.repeat(54)}`, /socket path of 109 bytes is over the limit of 107 bytes/],
    [
      `unix:${'1'.repeat(106)}`,
      /socket path of 106 bytes is over the limit of 105 bytes for a name that reads as a number/,
    ],
    [`unix:@${'x'.repeat(108)}`, /abstract socket name of 108 bytes is over the limit of 107 bytes/],
    ['unix:@a\0b', /abstract socket name contains a NUL byte/],
    ['unix:/a\0b', /socket path contains a NUL byte/],
    ['unix:/\ud800', /socket path is not valid Unicode/],
    ['unix:@\udfff', /abstract socket name is not valid Unicode/],
    ['', /missing scheme/],
  ];
  for (const [url, message] of bad) {
    test(`rejects ${JSON.stringify(url)} naming the problem`, () => {
      assert.throws(
        () => parseAddress(url),
        (err: unknown) =>
          err instanceof AddressError && err.code === 'ERR_INVALID_ADDRESS' && message.test(err.message),
      );
    });
  }
});

describe('formatAddress', () => {
  test('round-trips every form through parseAddress', () => {
    for (const url of [
      'tcp://127.0.0.1:1',
      'udp://[::1]:7',
      'tls://localhost:443',
      'unix:/a/b.sock',
      'unix:@abc',
      'unix:relative.sock',
      'unix:123',
      'unix:////1',
      'unix://///',
      'unix:/@x',
    ]) {
      assert.equal(formatAddress(parseAddress(url)), url);
    }
  });
  test('writes a path that starts with // after unix://, so that it reads back', () => {
    assert.equal(formatAddress({ scheme: 'unix', path: '//1', abstract: false }), 'unix:////1');
  });
  test('writes a relative path that starts with @ as ./@, so that it is not read as an abstract name', () => {
    const url = formatAddress({ scheme: 'unix', path: '@file', abstract: false });
    assert.equal(url, 'unix:./@file');
    assert.deepEqual(parseAddress(url), { scheme: 'unix', path: './@file', abstract: false });
  });
  test('brackets IPv6 hosts', () => {
    assert.equal(formatAddress({ scheme: 'tcp', host: '::', port: 0 }), 'tcp://[::]:0');
  });
});
