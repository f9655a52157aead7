import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressError } from '../../src/errors.js';
import { formatProxyUrl, parseProxyUrl } from '../../src/proxy/proxy-url.js';

describe('proxy URLs', () => {
  test('parse each protocol, with a login where it has one, %-escapes decoded', () => {
    assert.deepEqual(parseProxyUrl('socks5://127.0.0.1:1080'), {
      protocol: 'socks5',
      host: '127.0.0.1',
      port: 1080,
    });
    assert.deepEqual(parseProxyUrl('SOCKS4A://[::1]:1080'), { protocol: 'socks4a', host: '::1', port: 1080 });
    assert.deepEqual(parseProxyUrl('http://al%40ice:p%3Ass@proxy.example.test:3128'), {
      protocol: 'http',
      host: 'proxy.example.test',
      port: 3128,
      username: 'al@ice',
      password: 'p:ss',
    });
  });

  test('format without the password', () => {
    assert.equal(
      formatProxyUrl(parseProxyUrl('socks5://alice:s3cret@[::1]:1080')),
      'socks5://alice@[::1]:1080',
    );
  });

  test('refuse what is not a proxy URL, naming the part', () => {
    const cases: [string, RegExp][] = [
      ['ftp://127.0.0.1:21', /unknown proxy scheme "ftp"/],
      ['socks5://127.0.0.1', /missing port/],
      ['socks4a://bob:pw@127.0.0.1:1080', /socks4a:\/\/ has no password/],
      ['http://127.0.0.1:3128/path', /unexpected path/],
      ['socks5://:pw@127.0.0.1:1080', /empty user name/],
      ['127.0.0.1:1080', /expected socks5:\/\/host:port/],
    ];
    for (const [url, reason] of cases) {
      assert.throws(
        () => parseProxyUrl(url),
        (err: unknown) =>
          err instanceof AddressError && err.code === 'ERR_INVALID_ADDRESS' && reason.test(err.message),
        url,
      );
    }
  });
});
