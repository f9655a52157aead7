/**
 * TlsHandshakeFailures classifies the TLS handshakes that fail on a guard's TLS servers (Node's
 * 'tlsClientError'): not finished in time, a client certificate refused, garbage or plaintext, a
 * client gone before finishing, and reports each as a LimitEvent naming the peer. The words come
 * from the one table of TLS failures in errors.ts (`describeTlsClientFailure`).
 */
import type { Server, Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import { describeTlsClientFailure } from '../errors.js';
import { tlsParentSocket } from '../node-internals.js';
import { type LimitEvent, limitPeer } from './limit-event.js';

/** TlsHandshakeFailures watches the TLS servers of one guard; what it remembers is that guard's alone. */
export class TlsHandshakeFailures {
  readonly #report: (event: LimitEvent) => void;
  readonly #servers = new WeakSet<Server>();
  /** Each raw socket's peer, kept at accept: after a failed handshake the TLSSocket may have lost it. */
  readonly #peers = new WeakMap<Socket, string>();
  /** Raw sockets the guard refused, whose reset the TLS layer reports too: they are counted already. */
  readonly #refused = new WeakSet<Socket>();

  /** The constructor takes the function told of each failed handshake (`handshake-timeout` or `handshake-failed`). */
  constructor(report: (event: LimitEvent) => void) {
    this.#report = report;
  }

  /** watches tells whether `server` is one of the TLS servers watched. */
  watches(server: Server): boolean {
    return this.#servers.has(server);
  }

  /** remember keeps the peer of a raw socket accepted by a watched server, to name it if its handshake fails. */
  remember(raw: Socket, peer: string): void {
    this.#peers.set(raw, peer);
  }

  /** refused marks a raw socket the guard refused, so that its reset is not reported as a failed handshake. */
  refused(raw: Socket): void {
    this.#refused.add(raw);
  }

  /** watch reports the failed handshakes of `server`. */
  watch(server: TlsServer): void {
    this.#servers.add(server);
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      const raw = tlsParentSocket(socket);
      if (raw && this.#refused.has(raw)) return;
      const peer = (raw && this.#peers.get(raw)) ?? limitPeer(socket);
      this.#report(describe(err, socket, peer));
    });
  }
}

function describe(err: NodeJS.ErrnoException, socket: TLSSocket, peer: string): LimitEvent {
  // Node closes a client whose certificate does not verify without a TLS alert, and keeps the
  // OpenSSL verify code (a string, whatever its type says) as `authorizationError`: say why here.
  const refusal = socket.authorizationError as unknown;
  if (refusal) {
    const code = String(refusal);
    return {
      limit: 'handshake-failed',
      peer,
      detail: `client certificate refused: ${describeTlsClientFailure({ name: 'Error', message: code, code })}`,
      option: { name: 'clientCa' },
    };
  }
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    return { limit: 'handshake-timeout', peer, detail: 'dropped: TLS handshake not finished in time' };
  }
  // A FIN before the handshake is done ends the socket at once (see stream/tls.ts); Node reports
  // that as a reset, which it is not.
  const cause = socket.readableEnded
    ? 'the client closed before finishing it'
    : describeTlsClientFailure(err);
  return {
    limit: 'handshake-failed',
    peer,
    detail: `TLS handshake failed: ${cause}`,
    option: err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' ? { name: 'clientCa' } : undefined,
  };
}
