/**
 * ConnectionGuard enforces a server's limits as connections arrive: how many at once, how many
 * per client address, who may connect at all, how long a connection may stay silent, and what to
 * do when the process runs out of file descriptors. It plugs into `listen` (ListenOptions.guard);
 * it never prints: each time a limit acts it reports a LimitEvent, and it keeps counts for the
 * shutdown summary.
 */
import type { Server, Socket } from 'node:net';
import { type TLSSocket, Server as TlsServer } from 'node:tls';
import { formatHostPort } from '../address.js';
import type { AcceptGuard } from '../stream/listen.js';
import type { AccessRules } from './access.js';
import { unmapIPv4 } from './access.js';

/** ConnectionLimits lists the limits a guard enforces. Every field is optional; an absent one is off. */
export interface ConnectionLimits {
  /** At most this many connections open at once; the next is accepted and reset at once. */
  readonly maxConnections?: number | undefined;
  /** At most this many connections open at once from one IP address. */
  readonly maxPerIp?: number | undefined;
  /** Close a connection after this long without traffic in either direction, in ms. */
  readonly idleTimeout?: number | undefined;
  /** Who may connect (`--allow`, `--deny`). */
  readonly access?: AccessRules | undefined;
  /**
   * Connections beyond this many are refused (as `emfile`) before the process runs out of file
   * descriptors: see `descriptorBudget`. The CLI always sets it from `ulimit -n`. It is enforced
   * by Node (`server.maxConnections`, split across the guard's servers), costing nothing per
   * admitted connection.
   */
  readonly descriptorBudget?: number | undefined;
}

/** LimitName names the limit that acted. */
export type LimitName =
  | 'max-connections'
  | 'max-per-ip'
  | 'access'
  | 'idle-timeout'
  | 'handshake-timeout'
  | 'handshake-failed'
  | 'emfile'
  | 'reply-budget'
  | 'service-error';

/** LimitEvent reports one time a limit acted on one connection (or, for `emfile`, on accepting). */
export interface LimitEvent {
  readonly limit: LimitName;
  /** The peer, as `127.0.0.1:53122`, or `unix peer`; empty for `emfile`. */
  readonly peer: string;
  /** What happened, in words: `refused: 4 connections open (--max-connections 4)`. */
  readonly detail: string;
}

/** GuardStats counts what the guard did, for the shutdown summary. */
export interface GuardStats {
  /** Connections refused, by the limit that refused them. */
  readonly refused: Record<'max-connections' | 'max-per-ip' | 'access' | 'emfile', number>;
  /** Connections closed for silence (`idle`) or for not finishing a TLS handshake in time (`handshake`). */
  readonly timedOut: { idle: number; handshake: number };
  /** TLS handshakes that failed: garbage, plaintext, a refused client certificate. */
  handshakeFailed: number;
  /** Times accepting was paused because the process ran out of file descriptors. */
  emfilePauses: number;
}

/** EMFILE back-off: the first pause, and the longest. */
const FIRST_PAUSE = 50;
const LONGEST_PAUSE = 5000;

/**
 * ConnectionGuard implements AcceptGuard for ConnectionLimits. Pass it to `listen` as
 * `guard`; one guard may serve several listeners, and its limits then count across all of them.
 */
export class ConnectionGuard implements AcceptGuard {
  readonly stats: GuardStats = {
    refused: { 'max-connections': 0, 'max-per-ip': 0, access: 0, emfile: 0 },
    timedOut: { idle: 0, handshake: 0 },
    handshakeFailed: 0,
    emfilePauses: 0,
  };
  readonly #limits: ConnectionLimits;
  readonly #report: (event: LimitEvent) => void;
  readonly #perIp = new Map<string, number>();
  #open = 0;
  #pausedUntil = 0;
  #pause = FIRST_PAUSE;
  #lastEmfile = 0;
  readonly #budgeted: Server[] = [];

  /**
   * The constructor takes the limits and a function told of every LimitEvent (one that throws is
   * ignored: see `reportingSafely`). Throws RangeError for a limit that is not a positive whole number.
   */
  constructor(limits: ConnectionLimits, report: (event: LimitEvent) => void = () => {}) {
    for (const key of ['maxConnections', 'maxPerIp', 'idleTimeout', 'descriptorBudget'] as const) {
      const value = limits[key];
      if (value !== undefined && !(Number.isInteger(value) && value > 0))
        throw new RangeError(`${key} must be a positive whole number, not ${value}`);
    }
    this.#limits = limits;
    this.#report = reportingSafely(report);
  }

  /** open is how many admitted connections are open now (counted only with a count limit). */
  get open(): number {
    return this.#open;
  }

  /** watch observes a server's accept errors (EMFILE) and failed TLS handshakes. */
  watch(server: Server): void {
    if (typeof server.address() === 'string') unixServers.add(server);
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EMFILE' || err.code === 'ENFILE') this.#outOfDescriptors(err.code);
    });
    if (this.#limits.descriptorBudget !== undefined) this.#shareBudget(server, this.#limits.descriptorBudget);
    if (!(server instanceof TlsServer)) return;
    tlsServers.add(server);
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // Node keeps the raw TCP socket as `_parent`; by now both may have lost their address.
      const raw = (socket as { _parent?: Socket })._parent;
      // A raw socket the guard refused shows up here too, as a reset: it is already counted.
      if (raw && refusedSockets.has(raw)) return;
      const peer = (raw && peerLabels.get(raw)) ?? peerOf(socket);
      if (socket.authorizationError) {
        // Node closes a client whose certificate does not verify without a TLS alert: say why here.
        this.stats.handshakeFailed += 1;
        const why = String(socket.authorizationError);
        this.#report({
          limit: 'handshake-failed',
          peer,
          detail: `client certificate refused: ${clientCertReasons[why] ?? why}`,
        });
        return;
      }
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
        this.stats.timedOut.handshake += 1;
        this.#report({
          limit: 'handshake-timeout',
          peer,
          detail: 'dropped: TLS handshake not finished in time',
        });
      } else {
        this.stats.handshakeFailed += 1;
        // A FIN before the handshake is done ends the socket at once (see stream/tls.ts); Node
        // reports that as a reset, which it is not.
        const cause = socket.readableEnded ? 'the client closed before finishing it' : tlsCause(err);
        this.#report({ limit: 'handshake-failed', peer, detail: `TLS handshake failed: ${cause}` });
      }
    });
  }

  /** admit checks a raw socket against every limit; it resets and refuses the socket when one says no. */
  admit(socket: Socket): boolean {
    const limits = this.#limits;
    const server = (socket as { server?: Server }).server as Server;
    const tls = tlsServers.has(server);
    if (this.#pausedUntil !== 0) {
      if (Date.now() < this.#pausedUntil)
        return this.#refuse(socket, 'emfile', 'refused: out of file descriptors, accepting is paused');
      this.#pausedUntil = 0;
    }
    // The peer's address is read only when a rule needs it (reading it costs a system call and
    // a cached object per socket); Unix peers have none, so only --max-connections applies to them.
    let ip: string | undefined;
    if ((limits.access !== undefined || limits.maxPerIp !== undefined || tls) && !unixServers.has(server)) {
      const remote = socket.remoteAddress;
      if (remote === undefined) {
        // The client reset before we looked: there is nobody to serve or to refuse.
        socket.destroy();
        return false;
      }
      ip = unmapIPv4(remote);
      if (tls) peerLabels.set(socket, formatHostPort(ip, socket.remotePort ?? 0));
    }
    if (limits.access && ip !== undefined && !limits.access.permits(ip)) {
      return this.#refuse(socket, 'access', `refused: ${ip} is not allowed (--allow/--deny)`);
    }
    if (limits.maxConnections !== undefined && this.#open >= limits.maxConnections) {
      return this.#refuse(
        socket,
        'max-connections',
        `refused: ${this.#open} connections open (--max-connections ${limits.maxConnections})`,
      );
    }
    let fromIp = 0;
    if (limits.maxPerIp !== undefined && ip !== undefined) {
      fromIp = this.#perIp.get(ip) ?? 0;
      if (fromIp >= limits.maxPerIp) {
        return this.#refuse(
          socket,
          'max-per-ip',
          `refused: ${fromIp} connections open from ${ip} (--max-per-ip ${limits.maxPerIp})`,
        );
      }
      this.#perIp.set(ip, fromIp + 1);
    }
    // Count only when a count limit is set: without one, admitting costs a few comparisons.
    if (limits.maxConnections === undefined && limits.maxPerIp === undefined) return true;
    this.#open += 1;
    socket.once('close', () => {
      this.#open -= 1;
      if (ip !== undefined && limits.maxPerIp !== undefined) {
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
      }
    });
    return true;
  }

  /** accepted starts the idle timer on a ready connection's socket, when there is an idle timeout. */
  accepted(socket: Socket): void {
    const idle = this.#limits.idleTimeout;
    if (idle === undefined) return;
    // Node restarts this timer on every read and write, so traffic either way keeps the connection.
    socket.setTimeout(idle);
    socket.once('timeout', () => {
      this.stats.timedOut.idle += 1;
      this.#report({
        limit: 'idle-timeout',
        peer: peerOf(socket),
        detail: `closed: idle for ${idle}ms (--idle-timeout)`,
      });
      socket.destroy();
    });
  }

  #refuse(
    socket: Socket,
    limit: 'max-connections' | 'max-per-ip' | 'access' | 'emfile',
    detail: string,
  ): false {
    this.stats.refused[limit] += 1;
    this.#report({ limit, peer: peerOf(socket), detail });
    refusedSockets.add(socket);
    // A reset (RST) tells the client at once that it was refused, rather than a clean end of stream
    // that could pass for an empty reply. Unix sockets have no reset: they are closed.
    try {
      if (socket.remoteAddress !== undefined) socket.resetAndDestroy();
      else socket.destroy();
    } catch {
      socket.destroy();
    }
    return false;
  }

  /**
   * shareBudget enforces the descriptor budget with Node's own `server.maxConnections`, split
   * evenly across the guard's servers: Node then closes an excess connection as it accepts it,
   * at no cost per admitted connection, and reports it as 'drop'.
   */
  #shareBudget(server: Server, budget: number): void {
    this.#budgeted.push(server);
    const share = Math.max(1, Math.floor(budget / this.#budgeted.length));
    for (const each of this.#budgeted) each.maxConnections = share;
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.stats.refused.emfile += 1;
      const peer = data?.remoteAddress
        ? formatHostPort(unmapIPv4(data.remoteAddress), data.remotePort ?? 0)
        : '';
      this.#report({
        limit: 'emfile',
        peer,
        detail: `refused: ${server.maxConnections} connections open on this listener, one more would run the process out of file descriptors (raise ulimit -n)`,
      });
    });
  }

  #outOfDescriptors(code: string): void {
    const now = Date.now();
    // Back off harder while the shortage lasts; start again small after a quiet spell.
    this.#pause =
      now - this.#lastEmfile < 2 * this.#pause + 1000
        ? Math.min(this.#pause * 2, LONGEST_PAUSE)
        : FIRST_PAUSE;
    this.#lastEmfile = now;
    if (now < this.#pausedUntil) return;
    this.#pausedUntil = now + this.#pause;
    this.stats.emfilePauses += 1;
    this.#report({
      limit: 'emfile',
      peer: '',
      detail: `accept failed: too many open files (${code}); refusing new connections for ${this.#pause}ms`,
    });
  }
}

/**
 * reportingSafely wraps a report function so that one that throws cannot stop a guard halfway
 * through refusing or closing a connection (and so cannot reach the process's uncaught-exception
 * handler from a socket event). An error it throws is dropped: there is nowhere left to report it.
 */
export function reportingSafely(report: (event: LimitEvent) => void): (event: LimitEvent) => void {
  return (event) => {
    try {
      report(event);
    } catch {
      // The reporter itself failed; the limit still acts.
    }
  };
}

/** Servers bound to Unix sockets, whose peers have no address. */
const unixServers = new WeakSet<Server>();

/** TLS servers, whose failed handshakes are reported by the peer's address, kept here at accept. */
const tlsServers = new WeakSet<Server>();
const peerLabels = new WeakMap<Socket, string>();

const clientCertReasons: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'not signed by a CA in --client-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'not signed by a CA in --client-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed, not from --client-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a CA not in --client-ca',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
};

/** Sockets a guard refused, so the TLS layer's report of their reset is not counted twice. */
const refusedSockets = new WeakSet<Socket>();

function peerOf(socket: Socket): string {
  if (socket.remoteAddress === undefined) return 'unix peer';
  return formatHostPort(unmapIPv4(socket.remoteAddress), socket.remotePort ?? 0);
}

function tlsCause(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
    case 'ERR_SSL_UNEXPECTED_MESSAGE':
      return 'the client does not speak TLS';
    case 'ECONNRESET':
      return 'the client reset the connection';
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'no client certificate (--client-ca requires one)';
    default:
      return err.code ?? err.message;
  }
}
