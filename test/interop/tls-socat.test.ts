/**
 * TLS interop with socat's OPENSSL address as a real peer, in both directions: socat as a
 * verifying client of sockkit echo, and sockkit's client against socat's OPENSSL-LISTEN echo.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPort, runCli } from '../helpers.js';
import { startPeer, useTlsFixture } from './tls-certs.js';

describe('TLS interop with socat OPENSSL', () => {
  const tls = useTlsFixture();

  test('socat OPENSSL verifies sockkit echo and gets every byte back, binary included', async () => {
    const server = await tls.echo();
    const { port } = hostPort(server.urls[0] as string);
    const client = startPeer('socat', [
      '-t',
      '2',
      '-',
      `OPENSSL:127.0.0.1:${port},cafile=${tls.certs.caCert},commonname=localhost`,
    ]);
    tls.track(client);
    const payload = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    client.child.stdin?.end(payload);
    assert.equal(await client.exited, 0);
    assert.deepEqual(Buffer.from(client.stdout(), 'latin1'), payload);
  });

  test('socat OPENSSL refuses sockkit --self-signed unless told to trust it', async () => {
    const server = await tls.start(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    const { port } = hostPort(server.urls[0] as string);
    const client = startPeer('socat', [
      '-t',
      '2',
      '-',
      `OPENSSL:127.0.0.1:${port},cafile=${tls.certs.caCert}`,
    ]);
    tls.track(client);
    client.child.stdin?.end('refused\n');
    assert.notEqual(await client.exited, 0);
    assert.equal(client.stdout(), '');
  });

  test('sockkit send verifies a socat OPENSSL-LISTEN echo server', async () => {
    const server = startPeer('socat', [
      '-d',
      '-d',
      `OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=${tls.certs.server.cert},key=${tls.certs.server.key},verify=0`,
      'PIPE',
    ]);
    tls.track(server);
    const [, port] = await server.waitFor(/listening on AF=2 127\.0\.0\.1:(\d+)/);
    const result = await runCli([
      'send',
      `tls://localhost:${port}`,
      'sockkit to socat',
      '--ca',
      tls.certs.caCert,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'sockkit to socat');
  });

  test('sockkit refuses a socat server whose certificate is for another host', async () => {
    const server = startPeer('socat', [
      '-d',
      '-d',
      `OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=${tls.certs.wrongHost.cert},key=${tls.certs.wrongHost.key},verify=0`,
      'PIPE',
    ]);
    tls.track(server);
    const [, port] = await server.waitFor(/listening on AF=2 127\.0\.0\.1:(\d+)/);
    const result = await runCli(['send', `tls://127.0.0.1:${port}`, 'x', '--ca', tls.certs.caCert]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /certificate verification failed: wrong host/);
  });
});
