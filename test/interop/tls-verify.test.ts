/**
 * TLS between sockkit's own server and client, with certificates made by `openssl`: the client
 * verifies by default and names the reason when it refuses; mutual TLS accepts the CA's client
 * certificates and refuses the rest; --insecure works and warns; --trace shows the handshake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Running, runCli, startCli } from '../helpers.js';
import { makeTestCerts, type TestCerts, waitForOutput } from './tls-certs.js';

describe('TLS verification (sockkit client and server, openssl-made certificates)', () => {
  let certs: TestCerts;
  const servers: Running[] = [];
  /** startServer runs `sockkit echo tls://` with `cert` and `extra` flags, stopped after the suite. */
  const startServer = async (cert: { cert: string; key: string }, ...extra: string[]): Promise<Running> => {
    const server = await startCli([
      'echo',
      'tls://127.0.0.1:0',
      '--cert',
      cert.cert,
      '--key',
      cert.key,
      ...extra,
    ]);
    servers.push(server);
    return server;
  };
  const serve = async (cert: { cert: string; key: string }, ...extra: string[]): Promise<string> =>
    (await startServer(cert, ...extra)).urls[0] as string;

  before(() => {
    certs = makeTestCerts();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    certs.remove();
  });

  test('a certificate from a trusted CA, for the right host, is accepted by IP and by name', async () => {
    const url = await serve(certs.server);
    const byIp = await runCli(['send', url, 'hello over TLS', '--ca', certs.caCert]);
    assert.equal(byIp.code, 0, byIp.stderr);
    assert.equal(byIp.stdout.toString(), 'hello over TLS');
    // localhost may resolve to ::1 first, where nobody listens: the client then tries 127.0.0.1.
    const byName = await runCli([
      'send',
      url.replace('127.0.0.1', 'localhost'),
      'by name',
      '--ca',
      certs.caCert,
    ]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout.toString(), 'by name');
  });

  test('a self-signed certificate is refused by default, naming the reason, with exit 1', async () => {
    const url = await serve(certs.selfSigned);
    const result = await runCli(['send', url, 'hi']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: connect tls:\/\/127\.0\.0\.1:\d+: certificate verification failed: self-signed certificate/m,
    );
    assert.equal(result.stdout.length, 0);
  });

  test('a certificate from an unknown CA is refused', async () => {
    const url = await serve(certs.server);
    const result = await runCli(['send', url, 'hi']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /certificate verification failed: issuer not trusted/);
  });

  test('a certificate for another host is refused as the wrong host', async () => {
    const url = await serve(certs.wrongHost);
    const result = await runCli(['send', url, 'hi', '--ca', certs.caCert]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /certificate verification failed: wrong host \(IP: 127\.0\.0\.1 is not in the cert's list/,
    );
    const byName = await runCli(['send', url, 'hi', '--ca', certs.caCert, '--servername', 'localhost']);
    assert.equal(byName.code, 1);
    assert.match(
      byName.stderr,
      /wrong host \(Host: localhost\. is not in the cert's altnames: DNS:other\.example\)/,
    );
  });

  test('--servername checks the certificate against that name instead of the URL host', async () => {
    const url = await serve(certs.wrongHost);
    const result = await runCli([
      'send',
      url,
      'named',
      '--ca',
      certs.caCert,
      '--servername',
      'other.example',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'named');
  });

  test('an expired certificate is refused as expired', async () => {
    const url = await serve(certs.expired);
    const result = await runCli(['send', url, 'hi', '--ca', certs.caCert]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /certificate verification failed: certificate has expired/);
  });

  test('--insecure skips verification and warns on stderr every time', async () => {
    const url = await serve(certs.expired);
    for (let i = 0; i < 2; i++) {
      const result = await runCli(['send', url, `insecure ${i}`, '--insecure']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), `insecure ${i}`);
      assert.match(
        result.stderr,
        /warning: --insecure: the certificate of tls:\/\/127\.0\.0\.1:\d+ is NOT verified/,
      );
    }
  });

  test('--fingerprint pins the certificate a --self-signed server printed, and refuses any other', async () => {
    const server = await startCli(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    servers.push(server);
    const url = server.urls[0] as string;
    const printed = /SHA-256 fingerprint ([0-9A-F:]{95})/.exec(server.stderr())?.[1] as string;
    const pinned = await runCli(['send', url, 'pinned', '--fingerprint', printed]);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(pinned.stdout.toString(), 'pinned');
    assert.doesNotMatch(pinned.stderr, /warning/);
    // Without colons and in lower case is the same fingerprint.
    const plain = await runCli([
      'send',
      url,
      'plain',
      '--fingerprint',
      printed.replace(/:/g, '').toLowerCase(),
    ]);
    assert.equal(plain.stdout.toString(), 'plain');
    const other = `${printed.startsWith('00') ? '11' : '00'}${printed.slice(2)}`;
    const wrong = await runCli(['send', url, 'wrong', '--fingerprint', other]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /certificate verification failed: fingerprint does not match \(the server's certificate has fingerprint /,
    );
    assert.equal(wrong.stdout.length, 0);
    const malformed = await runCli(['send', url, 'x', '--fingerprint', 'abc']);
    assert.equal(malformed.code, 2);
  });

  test('mutual TLS accepts a client certificate from --client-ca', async () => {
    const url = await serve(certs.server, '--client-ca', certs.caCert);
    const result = await runCli([
      'send',
      url,
      'with my certificate',
      '--ca',
      certs.caCert,
      '--cert',
      certs.client.cert,
      '--key',
      certs.client.key,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'with my certificate');
  });

  test('mutual TLS refuses a client without a certificate, naming the reason', async () => {
    const url = await serve(certs.server, '--client-ca', certs.caCert);
    const without = await runCli(['send', url, 'no certificate', '--ca', certs.caCert]);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /the server requires a client certificate/);
    assert.equal(without.stdout.length, 0);
  });

  test('mutual TLS refuses a certificate from another CA: no byte is served, and the server says why', async () => {
    const server = await startServer(certs.server, '--client-ca', certs.caCert);
    const stranger = await runCli([
      'send',
      server.urls[0] as string,
      'stranger',
      '--ca',
      certs.caCert,
      '--cert',
      certs.strangerClient.cert,
      '--key',
      certs.strangerClient.key,
    ]);
    // Node's TLS server closes such a client without an alert, so under TLS 1.3 the client sees a
    // reset or an empty reply after its handshake: never its echo.
    assert.equal(stranger.stdout.length, 0);
    await waitForOutput(server, /client certificate refused/);
    assert.match(
      server.stderr(),
      /limit handshake-failed 127\.0\.0\.1:\d+: client certificate refused: not signed by a trusted client CA \(--client-ca\)$/m,
    );
  });

  test('--trace shows the handshake: version, cipher, peer subject and ALPN, on both sides', async () => {
    const server = await startServer(
      certs.server,
      '--client-ca',
      certs.caCert,
      '--alpn',
      'h2,http/1.1',
      '--trace',
    );
    const result = await runCli([
      '--trace',
      'send',
      server.urls[0] as string,
      'traced',
      '--ca',
      certs.caCert,
      '--alpn',
      'http/1.1',
      '--cert',
      certs.client.cert,
      '--key',
      certs.client.key,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /TLS handshake done: TLSv1\.3, TLS_\w+, peer CN=localhost, ALPN http\/1\.1/);
    // The server narrates the same handshake, with the client's certificate as its peer.
    await waitForOutput(server, /handshake done/);
    assert.match(
      server.stderr(),
      /TLS handshake done: TLSv1\.3, TLS_\w+, peer CN=sockkit client, ALPN http\/1\.1/,
    );
  });

  test('a listener without a certificate, or TLS flags without tls://, is a usage error (exit 2)', async () => {
    const noCert = await runCli(['echo', 'tls://127.0.0.1:0']);
    assert.equal(noCert.code, 2);
    assert.match(noCert.stderr, /needs --cert FILE --key FILE, or --self-signed/);
    const plain = await runCli(['send', 'tcp://127.0.0.1:9', 'hi', '--ca', certs.caCert]);
    assert.equal(plain.code, 2);
    assert.match(
      plain.stderr,
      /^sockkit: send: --ca applies to tls:\/\/ or wss:\/\/ addresses only, not tcp:/,
    );
    const missing = await runCli([
      'echo',
      'tls://127.0.0.1:0',
      '--cert',
      '/nonexistent.pem',
      '--key',
      certs.server.key,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--cert: cannot read \/nonexistent\.pem: no such file/);
    const mismatch = await runCli([
      'echo',
      'tls://127.0.0.1:0',
      '--cert',
      certs.server.cert,
      '--key',
      certs.client.key,
    ]);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /the key does not fit the certificate/);
  });
});
