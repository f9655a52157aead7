/**
 * tls:// as a stream transport, read as a specification: `dial` and `listen` speak it by its
 * scheme, with typed `tls` options, whatever else was imported, and each way a handshake is
 * refused is one TlsError sentence. This file imports `stream/dial` and `stream/listen` and
 * nothing that could register a transport: `tls://` must work from those alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { type Certificate, selfSignedCertificate } from '../../src/security/certificate.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { type Listener, listen } from '../../src/stream/listen.js';

/** exchange sends `text` on `conn`, half-closes, and returns everything the peer sent back. */
async function exchange(conn: Conn, text: string): Promise<string> {
  await conn.send(text);
  await conn.closeWrite();
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  conn.close();
  return Buffer.concat(chunks).toString();
}

describe('dial and listen over tls://', () => {
  let cert: Certificate;
  let listener: Listener;
  before(async () => {
    // A certificate for the name localhost only, not for the IP the listener binds.
    cert = await selfSignedCertificate(['localhost']);
    listener = await listen(parseAddress('tls://127.0.0.1:0'), { tls: { cert: cert.cert, key: cert.key } });
    listener.handle((conn) => {
      conn.onData((chunk) => conn.write(chunk));
      conn.socket.once('end', () => void conn.closeWrite());
    });
  });
  after(() => listener.close());

  test('carry bytes both ways with a CA and a server name, from stream/dial and stream/listen alone', {
    timeout: 5000,
  }, async () => {
    const conn = await dial(listener.address, { tls: { ca: cert.cert, servername: 'localhost' } });
    assert.equal(await exchange(conn, 'over tls'), 'over tls');
  });

  test('a pinned fingerprint is trusted without a CA and whatever names the certificate carries', {
    timeout: 5000,
  }, async () => {
    const conn = await dial(listener.address, { tls: { fingerprint: cert.fingerprint.replace(/:/g, '') } });
    assert.equal(await exchange(conn, 'pinned'), 'pinned');
  });

  test('a wrong fingerprint is a TlsError naming both fingerprints', { timeout: 5000 }, async () => {
    const url = `tls://127.0.0.1:${(listener.address as { port: number }).port}`;
    const wrong = Array(32).fill('00').join(':');
    await assert.rejects(dial(listener.address, { tls: { fingerprint: wrong } }), {
      name: 'TlsError',
      code: 'ERR_TLS',
      message:
        `connect ${url}: certificate verification failed: fingerprint does not match ` +
        `(the server's certificate has fingerprint ${cert.fingerprint}, not ${wrong})`,
    });
  });

  test('the URL host is checked against the certificate unless a server name is given', {
    timeout: 5000,
  }, async () => {
    const url = `tls://127.0.0.1:${(listener.address as { port: number }).port}`;
    await assert.rejects(dial(listener.address, { tls: { ca: cert.cert } }), {
      name: 'TlsError',
      code: 'ERR_TLS',
      message: new RegExp(`^connect ${url}: certificate verification failed: wrong host \\(`),
    });
  });

  test('without options, a self-signed certificate is refused in one sentence', {
    timeout: 5000,
  }, async () => {
    const url = `tls://127.0.0.1:${(listener.address as { port: number }).port}`;
    await assert.rejects(dial(listener.address), {
      name: 'TlsError',
      code: 'ERR_TLS',
      message: `connect ${url}: certificate verification failed: self-signed certificate`,
    });
  });

  test('tls options on a tcp:// dial are ignored: tcp is plain', { timeout: 5000 }, async () => {
    const plain = await listen(parseAddress('tcp://127.0.0.1:0'));
    try {
      plain.handle((conn) => conn.onData((chunk) => conn.write(chunk)));
      const conn = await dial(plain.address, { tls: { fingerprint: cert.fingerprint } });
      const echoed = new Promise<Buffer>((resolve) => conn.onData(resolve));
      await conn.send('plain');
      assert.equal((await echoed).toString(), 'plain');
      conn.close();
    } finally {
      await plain.close();
    }
  });
});

test('listen of tls:// without a certificate is a UsageError that carries the URL and names the options', {
  timeout: 5000,
}, async () => {
  await assert.rejects(listen(parseAddress('tls://127.0.0.1:0')), {
    name: 'UsageError',
    code: 'ERR_USAGE',
    op: 'listen',
    url: 'tls://127.0.0.1:0',
    message:
      'listen tls://127.0.0.1:0: a tls:// listener needs a certificate and its key (tls.cert, tls.key)',
  });
});
