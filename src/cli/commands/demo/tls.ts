/**
 * The TLS demo: the echo example with a handshake in front. A certificate made for the demo, what
 * a client verifies (and a client that refuses it), and a wire tap between the two ends that
 * shows the bytes on the wire are no longer readable: ciphertext beside the plaintext.
 */
import { X509Certificate } from 'node:crypto';
import {
  type Conn,
  dial,
  echoStream,
  formatAddress,
  type InetAddress,
  isSockkitError,
  type Listener,
  listen,
  selfSignedCertificate,
} from '../../../index.js';
import type { Narration } from './narration.js';

/**
 * tlsDemo runs the echo example over TLS, the server listening on `address` (a `tls://` address;
 * port 0 for any free one), and resolves true when the echo came back exact and the wire carried
 * none of it in the clear. Rejects with the SockkitError of a step that failed.
 */
export async function tlsDemo(address: InetAddress, message: string, story: Narration): Promise<boolean> {
  story.step(
    '1. The server makes a certificate for the demo: self-signed, for the names it will be reached\n' +
      'by, valid for one day. A public server gets one signed by an authority (CA) clients trust.',
  );
  const names = [address.host, ...(address.host === 'localhost' ? [] : ['localhost'])];
  const certificate = await selfSignedCertificate(names, { days: 1 });
  const x509 = new X509Certificate(certificate.cert);
  story.say(
    [
      `subject      ${x509.subject.replace(/\n/g, ', ')}`,
      `names        ${x509.subjectAltName ?? '(none)'}`,
      `valid        ${x509.validFrom} to ${x509.validTo}`,
      `fingerprint  SHA-256 ${certificate.fingerprint}`,
    ].join('\n'),
  );

  story.step(
    '2. The server listens for TLS connections. Between it and the client the demo puts a wire\n' +
      'tap: a plain TCP relay that copies every byte both ways and keeps a copy, as anyone on the\n' +
      'path between two hosts could (the server sees the tap as its client).',
  );
  const server = await listen(address, {
    trace: story.tracer('server'),
    tls: { cert: certificate.cert, key: certificate.key },
  });
  const tap = await WireTap.start(server.address as InetAddress);
  let client: Conn | undefined;
  let served: Conn | undefined;
  try {
    const through: InetAddress = { scheme: 'tls', host: address.host, port: tap.address.port };
    story.say(
      `The server is listening on ${formatAddress(server.address)}; clients reach it through the tap at ${formatAddress(through)}.`,
    );

    story.step(
      "3. A client that trusts only the system's certificate authorities connects, and refuses\n" +
        'the server during the handshake: nothing vouches for a self-signed certificate.',
    );
    const refused = await dial(through, { trace: story.tracer('client'), timeout: 5000 }).then(
      (conn) => {
        conn.close();
        return undefined;
      },
      (err: unknown) => {
        if (!isSockkitError(err)) throw err;
        return err;
      },
    );
    story.say(refused ? refused.message : 'It connected: this machine trusts the demo certificate?');

    story.step(
      '4. A client that trusts this certificate (given to it as its CA) connects. It verifies that\n' +
        'the certificate is signed by a CA it trusts (here, itself), that today falls within its\n' +
        `validity, and that the name it dialled (${address.host}) is one of its names. The handshake\n` +
        'then agrees on a version, a cipher and keys that only the two ends know.',
    );
    const accepting = server.accept();
    client = await dial(through, {
      trace: story.tracer('client'),
      timeout: 5000,
      tls: { ca: certificate.cert },
    });
    served = await accepting;
    echoStream(served);
    story.say(
      `Before any data, the handshake took ${tap.total('client')} bytes from the client and ` +
        `${tap.total('server')} from the server.`,
    );

    story.step(
      `5. The client sends ${JSON.stringify(message)} and the server echoes it. Both programs see the\n` +
        'plaintext; the tap sees only a TLS record of ciphertext.',
    );
    const mark = tap.total('client');
    const reading = readAll(client, Buffer.byteLength(message));
    await client.send(message);
    await reading.enough;
    const wire = tap.since('client', mark);
    story.say(sideBySide(Buffer.from(message), wire));
    const readable = Buffer.byteLength(message) > 0 && wire.includes(Buffer.from(message));
    story.say(
      readable
        ? 'The message is readable on the wire: TLS did NOT protect it.'
        : `${Buffer.byteLength(message)} bytes of plaintext became ${wire.length} bytes on the wire: a 5-byte record header ` +
            `(type ${wire[0]}, application data), then ciphertext and an authentication tag.`,
    );

    story.step('6. The client shuts down its write side; the server echoes the rest, and both close.');
    await client.closeWrite();
    const reply = (await reading.all).toString();
    await Promise.all([client.closed, served.closed]);
    const exact = reply === message;
    const ok = exact && refused !== undefined && !readable;
    story.conclude(
      `Sent ${JSON.stringify(message)}, received ${JSON.stringify(reply)} over TLS: ` +
        `${exact ? 'the echo is exact' : 'the echo DIFFERS'}; the wire tap ${readable ? 'READ it' : 'saw only ciphertext'}.`,
    );
    story.conclude(
      'Next: run `npx sockkit echo tls://127.0.0.1:8443 --self-signed` (it prints the fingerprint) and\n' +
        '`npx sockkit connect tls://127.0.0.1:8443 --fingerprint FP --trace` in another terminal, or\n' +
        '`openssl s_client -connect 127.0.0.1:8443` to watch the handshake from OpenSSL.',
    );
    return ok;
  } finally {
    client?.close();
    served?.close();
    await tap.close();
    await server.close();
  }
}

/** readAll collects what `conn` reads: `enough` once `bytes` came, `all` at the end of the stream. */
function readAll(conn: Conn, bytes: number): { enough: Promise<void>; all: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  let length = 0;
  let enough: () => void = () => {};
  const enoughPromise = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const all = new Promise<Buffer>((resolve) => {
    conn.onData((chunk) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) enough();
    });
    conn.socket.once('end', () => resolve(Buffer.concat(chunks)));
    conn.socket.once('close', () => {
      enough();
      resolve(Buffer.concat(chunks));
    });
  });
  if (bytes === 0) enough();
  return { enough: enoughPromise, all };
}

/** sideBySide dumps the plaintext beside the first bytes that crossed the wire. */
function sideBySide(plain: Buffer, wire: Buffer): string {
  const shown = wire.subarray(0, 32);
  const left = dumpRows(plain);
  const right = dumpRows(shown);
  const width = 42;
  const rows = [`${'what the client wrote'.padEnd(width)}what crossed the wire`];
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    rows.push(`${(left[i] ?? '').padEnd(width)}${right[i] ?? ''}`);
  }
  if (wire.length > shown.length)
    rows.push(`${''.padEnd(width)}... ${wire.length - shown.length} more bytes`);
  return rows.join('\n');
}

function dumpRows(bytes: Buffer): string[] {
  const rows: string[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    const chunk = bytes.subarray(at, at + 8);
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(`${at.toString(16).padStart(4, '0')}  ${hex.padEnd(23)}  ${text}`);
  }
  return rows;
}

/**
 * WireTap is a plain TCP relay in front of a server that keeps a copy of every byte, each way:
 * what anyone on the path between two hosts can record.
 */
class WireTap {
  readonly #listener: Listener;
  /** What each relayed connection carried, each way, in the order they were accepted. */
  readonly #sessions: { client: Buffer[]; server: Buffer[] }[] = [];
  readonly #conns = new Set<Conn>();

  private constructor(listener: Listener, upstream: InetAddress) {
    this.#listener = listener;
    listener.handle((down) => void this.#relay(down, upstream));
  }

  /** start listens on a free loopback port of `upstream`'s host and relays to `upstream` over plain TCP. */
  static async start(upstream: InetAddress): Promise<WireTap> {
    const listener = await listen({ scheme: 'tcp', host: upstream.host, port: 0 });
    return new WireTap(listener, { scheme: 'tcp', host: upstream.host, port: upstream.port });
  }

  get address(): InetAddress {
    return this.#listener.address as InetAddress;
  }

  /** total counts the bytes that crossed from `side` so far on the latest connection. */
  total(side: 'client' | 'server'): number {
    return (this.#sessions.at(-1)?.[side] ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** since returns the bytes that crossed from `side` on the latest connection after the first `offset`. */
  since(side: 'client' | 'server', offset: number): Buffer {
    return Buffer.concat(this.#sessions.at(-1)?.[side] ?? []).subarray(offset);
  }

  async close(): Promise<void> {
    for (const conn of this.#conns) conn.close();
    await this.#listener.close();
  }

  async #relay(down: Conn, upstream: InetAddress): Promise<void> {
    this.#conns.add(down);
    const copies = { client: [] as Buffer[], server: [] as Buffer[] };
    this.#sessions.push(copies);
    let up: Conn;
    try {
      up = await dial(upstream, { timeout: 5000 });
    } catch {
      down.close();
      return;
    }
    this.#conns.add(up);
    const copy = (from: Conn, to: Conn, side: 'client' | 'server'): void => {
      from.onData((chunk) => {
        copies[side].push(chunk);
        to.write(chunk);
      });
      from.socket.once('end', () => void to.closeWrite());
      from.closed.then(() => {
        this.#conns.delete(from);
        if (from.error) to.close();
      });
    };
    copy(down, up, 'client');
    copy(up, down, 'server');
    // Both directions done (each side closed): nothing more to relay.
    await Promise.all([down.closed, up.closed]);
  }
}
