import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatAddress, isInet, isWebSocket, parseAddress, webSocketTransport } from '../../src/address.js';
import { AddressError } from '../../src/errors.js';

describe('ws:// and wss:// addresses', () => {
  test('parses host, port and path, with / when the URL has none', () => {
    assert.deepEqual(parseAddress('ws://127.0.0.1:8080'), {
      scheme: 'ws',
      host: '127.0.0.1',
      port: 8080,
      path: '/',
    });
    assert.deepEqual(parseAddress('wss://[::1]:443/chat/room?nick=a'), {
      scheme: 'wss',
      host: '::1',
      port: 443,
      path: '/chat/room?nick=a',
    });
    assert.deepEqual(parseAddress('WS://localhost:0?x=1'), {
      scheme: 'ws',
      host: 'localhost',
      port: 0,
      path: '/?x=1',
    });
  });

  test('formats back to the URL it was parsed from', () => {
    for (const url of ['ws://127.0.0.1:8080/', 'wss://[::1]:443/chat?nick=a', 'ws://example.test:80/a/b']) {
      assert.equal(formatAddress(parseAddress(url)), url);
    }
    assert.equal(formatAddress(parseAddress('ws://127.0.0.1:1')), 'ws://127.0.0.1:1/');
  });

  test('refuses a fragment, a space or a control character in the path, and a missing port', () => {
    for (const [url, words] of [
      ['ws://127.0.0.1:8080/#top', /no fragment/],
      ['ws://127.0.0.1:8080/a b', /malformed path/],
      ['ws://127.0.0.1:8080/a\r\nX: y', /malformed path/],
      ['ws://127.0.0.1/chat', /missing port/],
      ['ws://127.0.0.1:70000/', /out of range/],
      ['ws:127.0.0.1:80', /expected "ws:\/\/host:port"/],
      ['ws://::1:80/', /IPv6 hosts need brackets/],
    ] as const) {
      assert.throws(
        () => parseAddress(url),
        (err: unknown) =>
          err instanceof AddressError && err.code === 'ERR_INVALID_ADDRESS' && words.test(err.message),
        url,
      );
    }
  });

  test('runs over tcp:// (ws) or tls:// (wss) at the same host and port, and is not an inet address', () => {
    const ws = parseAddress('ws://127.0.0.1:8080/x');
    const wss = parseAddress('wss://localhost:8443/');
    assert.ok(isWebSocket(ws) && isWebSocket(wss));
    assert.equal(isInet(ws), false);
    assert.deepEqual(webSocketTransport(ws as never), { scheme: 'tcp', host: '127.0.0.1', port: 8080 });
    assert.deepEqual(webSocketTransport(wss as never), { scheme: 'tls', host: 'localhost', port: 8443 });
  });

  test('the unknown-scheme message lists ws and wss', () => {
    assert.throws(() => parseAddress('http://127.0.0.1:80/'), /expected tcp, udp, tls, unix, ws or wss/);
  });
});
