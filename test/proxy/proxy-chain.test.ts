import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { ConnectionRefusedError, ProxyRefusedError, TlsError } from '../../src/errors.js';
import { DestinationRules, parseDestinationRule } from '../../src/proxy/destination-rules.js';
import { formatProxyUrl } from '../../src/proxy/proxy-url.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import type { TraceEvent } from '../../src/trace.js';
import { type RunningProxy, type RunningServer, startBanner, startEcho, startProxy } from './servers.js';

/** exchange sends `message`, half-closes, and returns everything read back. */
async function exchange(conn: Conn, message: string): Promise<string> {
  await conn.send(message);
  await conn.closeWrite();
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  conn.close();
  return Buffer.concat(chunks).toString();
}

describe('dial through proxies', { timeout: 20_000 }, () => {
  let echo: RunningServer;
  let proxy: RunningProxy;
  before(async () => {
    echo = await startEcho();
    proxy = await startProxy();
  });
  after(async () => {
    await proxy.stop();
    await echo.stop();
  });

  test('reaches an echo server through a SOCKS5 proxy, narrating the hop', { timeout: 5000 }, async () => {
    const events: TraceEvent[] = [];
    const conn = await dial(echo.address, { proxy: [proxy.url('socks5')], trace: (e) => events.push(e) });
    assert.equal(await exchange(conn, 'through socks5'), 'through socks5');
    const notes = events.filter((e) => e.step === 'note').map((e) => e.detail);
    assert.deepEqual(notes, [
      `proxy ${formatProxyUrl(proxy.url('socks5'))}: socks5 connect 127.0.0.1:${echo.address.port}`,
      `proxy ${formatProxyUrl(proxy.url('socks5'))}: tunnel to 127.0.0.1:${echo.address.port} open`,
    ]);
    const event = await proxy.nextEvent();
    assert.equal(event.protocol, 'socks5');
    assert.equal(event.outcome, 'ok');
    assert.equal(event.bytesUp, 'through socks5'.length);
    assert.equal(event.bytesDown, 'through socks5'.length);
  });

  test('reaches it through SOCKS4a and HTTP CONNECT, names resolved by the proxy', {
    timeout: 5000,
  }, async () => {
    const byName = { ...echo.address, host: 'localhost' };
    for (const protocol of ['socks4a', 'http'] as const) {
      const conn = await dial(byName, { proxy: [proxy.url(protocol)] });
      assert.equal(await exchange(conn, `via ${protocol}`), `via ${protocol}`);
      const event = await proxy.nextEvent();
      assert.equal(event.protocol, protocol);
      assert.equal(event.destination, `localhost:${echo.address.port}`);
    }
  });

  test('goes through a chain of two proxies, first hop first', { timeout: 5000 }, async () => {
    const second = await startProxy();
    try {
      const conn = await dial(echo.address, { proxy: [proxy.url('http'), second.url('socks5')] });
      assert.equal(await exchange(conn, 'two hops'), 'two hops');
      const [first, last] = [await proxy.nextEvent(), await second.nextEvent()];
      assert.equal(first.destination, `127.0.0.1:${second.url().port}`);
      assert.equal(last.destination, `127.0.0.1:${echo.address.port}`);
    } finally {
      await second.stop();
    }
  });

  test('keeps the bytes a server sends right after the tunnel opens', { timeout: 5000 }, async () => {
    const banner = await startBanner('220 ready\r\n');
    try {
      for (const protocol of ['socks5', 'http'] as const) {
        const conn = await dial(banner.address, { proxy: [proxy.url(protocol)] });
        assert.equal(await exchange(conn, ''), '220 ready\r\n');
        await proxy.nextEvent();
      }
    } finally {
      await banner.stop();
    }
  });

  test('a refusal names the hop and the proxy reason', { timeout: 5000 }, async () => {
    const strict = await startProxy({
      rules: new DestinationRules([], [parseDestinationRule(`127.0.0.1:${echo.address.port}`)]),
    });
    try {
      await assert.rejects(
        dial(echo.address, { proxy: [strict.url('socks5')] }),
        (err: unknown) =>
          err instanceof ProxyRefusedError &&
          err.code === 'ERR_PROXY_REFUSED' &&
          err.message ===
            `connect tcp://127.0.0.1:${echo.address.port} via socks5://127.0.0.1:${strict.url().port}: ` +
              'proxy refused: connection not allowed by ruleset',
      );
      await assert.rejects(
        dial(echo.address, { proxy: [strict.url('http')] }),
        (err: unknown) => err instanceof ProxyRefusedError && err.reason === 'proxy refused: 403 Forbidden',
      );
      assert.match((await strict.nextEvent()).outcome, /^refused: destination denied/);
    } finally {
      await strict.stop();
    }
  });

  test('a login is checked: the right one passes, a wrong or missing one is refused', {
    timeout: 5000,
  }, async () => {
    const guarded = await startProxy({ users: [['alice', 's3cret']] });
    try {
      const good = { username: 'alice', password: 's3cret' };
      for (const protocol of ['socks5', 'http'] as const) {
        const conn = await dial(echo.address, { proxy: [guarded.url(protocol, good)] });
        assert.equal(await exchange(conn, 'let in'), 'let in');
        assert.equal((await guarded.nextEvent()).user, 'alice');
      }
      const bad = { username: 'alice', password: 'guess' };
      await assert.rejects(
        dial(echo.address, { proxy: [guarded.url('socks5', bad)] }),
        (err: unknown) =>
          err instanceof ProxyRefusedError && err.reason === 'proxy refused: authentication failed',
      );
      await assert.rejects(
        dial(echo.address, { proxy: [guarded.url('http')] }),
        (err: unknown) =>
          err instanceof ProxyRefusedError &&
          err.reason === 'proxy refused: 407 Proxy Authentication Required',
      );
      await assert.rejects(
        dial(echo.address, { proxy: [guarded.url('socks5')] }),
        (err: unknown) =>
          err instanceof ProxyRefusedError && /no authentication method in common/.test(err.reason),
      );
    } finally {
      await guarded.stop();
    }
  });

  test('a first hop nobody listens on is named in the error', { timeout: 5000 }, async () => {
    const closed = await startEcho();
    await closed.stop();
    const hop = { protocol: 'socks5' as const, host: '127.0.0.1', port: closed.address.port };
    await assert.rejects(
      dial(echo.address, { proxy: [hop] }),
      (err: unknown) =>
        err instanceof ConnectionRefusedError &&
        err.message ===
          `connect tcp://127.0.0.1:${echo.address.port} via socks5://127.0.0.1:${hop.port}: connection refused`,
    );
  });

  test('tls:// through a proxy verifies the final server, not the proxy', { timeout: 8000 }, async () => {
    const certificate = await selfSignedCertificate(['tls-target.test']);
    const server = createTlsServer({ cert: certificate.cert, key: certificate.key }, (socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      // The name is resolved by nobody: the proxy connects to 127.0.0.1, the certificate is for the name.
      const target = { scheme: 'tls' as const, host: '127.0.0.1', port };
      const conn = await dial(target, {
        proxy: [proxy.url('socks5')],
        tls: { ca: certificate.cert, servername: 'tls-target.test' },
      });
      assert.equal(await exchange(conn, 'secret'), 'secret');
      await assert.rejects(
        dial(target, { proxy: [proxy.url('http')], tls: { ca: certificate.cert, servername: 'other.test' } }),
        (err: unknown) => err instanceof TlsError && /wrong host/.test(err.reason),
      );
      await assert.rejects(
        dial(target, { proxy: [proxy.url('socks5')], tls: { servername: 'tls-target.test' } }),
        (err: unknown) => err instanceof TlsError && /self-signed/.test(err.reason),
      );
    } finally {
      server.close();
    }
  });
});
