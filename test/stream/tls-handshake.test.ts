/**
 * tls:// through the library, read as a specification: a listener with a self-signed certificate,
 * a dial that pins it, and the one TlsError (one sentence, no OpenSSL text) for each way a
 * handshake fails. Real handshakes on loopback; the certificates are made in memory.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type Certificate,
  type Conn,
  dial,
  type InetAddress,
  type Listener,
  listen,
  parseAddress,
  selfSignedCertificate,
  type TlsClientOptions,
  type TlsServerOptions,
} from '../../src/index.js';

/** readAll reads `conn` to its end and returns the text. */
async function readAll(conn: Conn): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

/** The message of a failed handshake: `connect URL: ` and one sentence, nothing from OpenSSL. */
function oneSentence(url: string): RegExp {
  return new RegExp(`^connect ${url.replace(/[.[\]]/g, '\\$&')}: [^\\n]+$`);
}

describe('tls:// through the library', { timeout: 8000 }, () => {
  let certificate: Certificate;
  let listener: Listener;
  let url: string;

  before(async () => {
    certificate = await selfSignedCertificate(['127.0.0.1', 'localhost']);
    const tls: TlsServerOptions = { cert: certificate.cert, key: certificate.key };
    listener = await listen(parseAddress('tls://127.0.0.1:0'), { tls });
    url = `tls://127.0.0.1:${(listener.address as InetAddress).port}`;
    // An echo that answers in upper case, so a reply proves it went through the server.
    listener.handle(async (conn) => {
      try {
        const text = await readAll(conn);
        await conn.send(text.toUpperCase());
        await conn.closeWrite();
      } catch {
        conn.close();
      }
    });
  });
  after(() => listener.close());

  test('a tls:// listener on port 0 reports its real port under the tls scheme', () => {
    const address = listener.address as InetAddress;
    assert.equal(address.scheme, 'tls');
    assert.equal(address.host, '127.0.0.1');
    assert.ok(address.port > 0);
  });

  test('a dial that pins the self-signed certificate by fingerprint talks through it, both ways', async () => {
    const tls: TlsClientOptions = { fingerprint: certificate.fingerprint };
    const conn = await dial(parseAddress(url), { tls });
    assert.equal(conn.remoteAddress.scheme, 'tls');
    await conn.send('hello over tls');
    await conn.closeWrite();
    assert.equal(await readAll(conn), 'HELLO OVER TLS');
    conn.close();
  });

  test('a fingerprint written in lower case without colons pins the same certificate', async () => {
    const fingerprint = certificate.fingerprint.replace(/:/g, '').toLowerCase();
    const conn = await dial(parseAddress(url), { tls: { fingerprint } });
    await conn.closeWrite();
    assert.equal(await readAll(conn), '');
    conn.close();
  });

  test('a dial that trusts the certificate as a CA verifies the name it dialled', async () => {
    const conn = await dial(parseAddress(url), { tls: { ca: certificate.cert } });
    await conn.send('verified');
    await conn.closeWrite();
    assert.equal(await readAll(conn), 'VERIFIED');
    conn.close();
  });

  test('a dial that fails verification is TlsError: self-signed certificate, in one sentence', async () => {
    const failure = await dial(parseAddress(url)).then(
      () => assert.fail('the dial verified a self-signed certificate'),
      (err: unknown) => err,
    );
    assert.deepEqual(
      {
        name: (failure as Error).name,
        code: (failure as { code?: string }).code,
        message: (failure as Error).message,
      },
      {
        name: 'TlsError',
        code: 'ERR_TLS',
        message: `connect ${url}: certificate verification failed: self-signed certificate`,
      },
    );
    assert.equal((failure as { errno?: string }).errno, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  test('a pinned fingerprint that does not match is TlsError saying both fingerprints', async () => {
    const other = await selfSignedCertificate(['127.0.0.1']);
    const failure = (await dial(parseAddress(url), { tls: { fingerprint: other.fingerprint } }).then(
      () => assert.fail('the dial accepted a certificate with another fingerprint'),
      (err: unknown) => err,
    )) as Error & { code: string };
    assert.equal(failure.name, 'TlsError');
    assert.equal(failure.code, 'ERR_TLS');
    assert.equal(
      failure.message,
      `connect ${url}: certificate verification failed: fingerprint does not match (the server's certificate has fingerprint ${certificate.fingerprint}, not ${other.fingerprint})`,
    );
  });

  test('a name the certificate does not carry is TlsError: wrong host', async () => {
    const failure = (await dial(parseAddress(url), {
      tls: { ca: certificate.cert, servername: 'elsewhere.test' },
    }).then(
      () => assert.fail('the dial accepted a certificate for another name'),
      (err: unknown) => err,
    )) as Error & { code: string };
    assert.equal(failure.name, 'TlsError');
    assert.equal(failure.code, 'ERR_TLS');
    assert.match(failure.message, oneSentence(url));
    assert.match(failure.message, /: certificate verification failed: wrong host \(.*elsewhere\.test/);
  });
});

test('a tls:// dial to a server that does not speak TLS is TlsError in one sentence, no OpenSSL text', {
  timeout: 8000,
}, async () => {
  // A plaintext server that answers the ClientHello as an HTTP server would.
  const plain: Server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  const url = `tls://127.0.0.1:${(plain.address() as { port: number }).port}`;
  try {
    const failure = (await dial(parseAddress(url), { tls: { insecure: true } }).then(
      () => assert.fail('the dial took plaintext for TLS'),
      (err: unknown) => err,
    )) as Error & { code: string };
    assert.equal(failure.name, 'TlsError');
    assert.equal(failure.code, 'ERR_TLS');
    assert.match(failure.message, oneSentence(url));
    assert.match(failure.message, /the peer does not speak TLS/);
    assert.doesNotMatch(failure.message, /SSL routines|error:[0-9A-F]{8}|openssl/i);
  } finally {
    plain.close();
  }
});
