/**
 * TLS interop with OpenSSL's own tools as real peers: `openssl s_client` against sockkit's
 * servers, and sockkit's clients against `openssl s_server`, in both directions; the fingerprint
 * printed by --self-signed is the one OpenSSL sees; TLS below 1.2 is refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { hostPort, runCli } from '../helpers.js';
import { type Peer, startPeer, useTlsFixture } from './tls-certs.js';

describe('TLS interop with openssl s_client and s_server', () => {
  const tls = useTlsFixture();
  const sClient = (url: string, ...extra: string[]): Peer => {
    const { host, port } = hostPort(url);
    const peer = startPeer('openssl', [
      's_client',
      '-connect',
      `${host}:${port}`,
      '-quiet',
      '-verify_return_error',
      ...extra,
    ]);
    tls.track(peer);
    return peer;
  };

  test('openssl s_client verifies sockkit echo and gets its bytes back', async () => {
    const server = await tls.echo();
    const client = sClient(server.urls[0] as string, '-CAfile', tls.certs.caCert, '-servername', 'localhost');
    client.child.stdin?.write('hello from openssl\n');
    await client.waitFor(/hello from openssl\n/);
    assert.equal(client.stdout(), 'hello from openssl\n');
    client.child.stdin?.end();
    await client.kill();
  });

  test('openssl s_client with a client certificate passes sockkit --client-ca; without one it is refused', async () => {
    const server = await tls.echo('--client-ca', tls.certs.caCert);
    const url = server.urls[0] as string;
    const good = sClient(
      url,
      '-CAfile',
      tls.certs.caCert,
      '-cert',
      tls.certs.client.cert,
      '-key',
      tls.certs.client.key,
    );
    good.child.stdin?.write('mutual\n');
    await good.waitFor(/mutual\n/);
    await good.kill();
    const bad = sClient(url, '-CAfile', tls.certs.caCert);
    bad.child.stdin?.write('anonymous\n');
    const code = await bad.exited;
    assert.notEqual(code, 0);
    assert.doesNotMatch(bad.stdout(), /anonymous/);
  });

  test('the fingerprint --self-signed prints is the certificate openssl receives', async () => {
    const server = await tls.start(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    const printed = /SHA-256 fingerprint ([0-9A-F:]{95})/.exec(server.stderr())?.[1];
    assert.ok(printed, server.stderr());
    const { port } = hostPort(server.urls[0] as string);
    const pem = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`], {
      input: '',
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const seen = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], {
      input: pem,
    }).toString();
    assert.equal(seen.trim().split('=')[1], printed);
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], {
      input: pem,
    }).toString();
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /DNS:localhost/);
  });

  test('a client offering only TLS 1.1 is refused, and the server keeps serving', async () => {
    const server = await tls.echo();
    const url = server.urls[0] as string;
    const old = sClient(url, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0');
    old.child.stdin?.end();
    assert.notEqual(await old.exited, 0);
    const after = await runCli(['send', url, 'still here', '--ca', tls.certs.caCert]);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stdout.toString(), 'still here');
  });

  /** sServer runs `openssl s_server` with the test server's certificate for one client, and its port once it listens. */
  async function sServer(...extra: string[]): Promise<{ server: Peer; port: string }> {
    const server = startPeer('openssl', [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-cert',
      tls.certs.server.cert,
      '-key',
      tls.certs.server.key,
      '-naccept',
      '1',
      ...extra,
    ]);
    tls.track(server);
    // s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
    const [, port] = await server.waitFor(/ACCEPT 127\.0\.0\.1:(\d+)/);
    return { server, port: port as string };
  }

  test('sockkit send talks to openssl s_server, verifying it', async () => {
    const { port } = await sServer('-rev');
    const result = await runCli([
      'send',
      `tls://localhost:${port}`,
      'sockkit to openssl\n',
      '--ca',
      tls.certs.caCert,
    ]);
    assert.equal(result.code, 0, result.stderr);
    // -rev answers each line reversed.
    assert.match(result.stdout.toString(), /lssnepo ot tikkcos/);
  });

  test('sockkit connect relays both ways with openssl s_server, offering ALPN', async () => {
    const { server, port } = await sServer('-alpn', 'sockkit/1');
    const client = await tls.start(
      ['--trace', 'connect', `tls://127.0.0.1:${port}`, '--ca', tls.certs.caCert, '--alpn', 'sockkit/1'],
      { listens: 0, stdin: 'pipe', timeout: 8000 },
    );
    client.child.stdin?.write('from sockkit\n');
    await server.waitFor(/from sockkit\n/);
    server.child.stdin?.write('from openssl\n');
    await client.waitFor(/from openssl\n/, 'stdout');
    assert.match(
      (await client.waitFor(/TLS handshake done: [^\n]*/, 'stderr'))[0],
      /TLSv1\.3, .*peer CN=localhost, ALPN sockkit\/1/,
    );
    client.child.stdin?.end();
    await Promise.all([client.stop(), server.kill()]);
  });
});
