/**
 * ConnectionGuard enforces a server's limits as connections arrive: how many at once, how many
 * per client address, who may connect at all, how long a connection may stay silent, and what to
 * do when the process runs out of file descriptors. It plugs into `listen` (ListenOptions.guard);
 * it never prints: each time a limit acts it reports a LimitEvent, and it keeps counts for the
 * shutdown summary.
 *
 * It composes one part per concept: AdmissionRules (access and counts), EmfileBackoff (pausing
 * when accept fails for want of descriptors), ListenerBudget (the descriptor budget) and
 * TlsHandshakeFailures (naming why a handshake failed). Everything they remember lives on the
 * guard: two guards in one process never see each other's servers, sockets or counts.
 */
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { formatHostPort } from '../address.js';
import { serverOf } from '../node-internals.js';
import type { AcceptGuard } from '../stream/listen.js';
import { formatDuration } from '../units.js';
import type { AccessRules } from './access.js';
import { unmapIPv4 } from './access.js';
import { AdmissionRules } from './admission-rules.js';
import { EmfileBackoff } from './emfile-backoff.js';
import { type LimitEvent, limitPeer, reportingSafely } from './limit-event.js';
import { ListenerBudget } from './listener-budget.js';
import { TlsHandshakeFailures } from './tls-handshake-failures.js';

/** ConnectionLimits lists the limits a guard enforces. Every field is optional; an absent one is off. */
export interface ConnectionLimits {
  /** At most this many connections open at once; the next is accepted and reset at once. */
  readonly maxConnections?: number | undefined;
  /** At most this many connections open at once from one IP address. */
  readonly maxPerIp?: number | undefined;
  /** Close a connection after this long without traffic in either direction, in ms. */
  readonly idleTimeout?: number | undefined;
  /** Who may connect: peers these rules do not permit are refused. */
  readonly access?: AccessRules | undefined;
  /**
   * Connections beyond this many are refused (as `emfile`) before the process runs out of file
   * descriptors: see `descriptorBudget`. The CLI always sets it from `ulimit -n`. It is enforced
   * by Node (`server.maxConnections`, split across the guard's servers), costing nothing per
   * admitted connection.
   */
  readonly descriptorBudget?: number | undefined;
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
  readonly #idleTimeout: number | undefined;
  readonly #report: (event: LimitEvent) => void;
  readonly #rules: AdmissionRules;
  readonly #backoff = new EmfileBackoff();
  readonly #budget: ListenerBudget | undefined;
  readonly #handshakes: TlsHandshakeFailures;
  /** The guard's servers bound to Unix sockets, whose peers have no address. */
  readonly #unixServers = new WeakSet<Server>();

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
    const reporter = reportingSafely(report);
    this.#report = reporter;
    this.#idleTimeout = limits.idleTimeout;
    this.#rules = new AdmissionRules(limits);
    if (limits.descriptorBudget !== undefined) {
      this.#budget = new ListenerBudget(limits.descriptorBudget, (event) => {
        this.stats.refused.emfile += 1;
        reporter(event);
      });
    }
    this.#handshakes = new TlsHandshakeFailures((event) => {
      if (event.limit === 'handshake-timeout') this.stats.timedOut.handshake += 1;
      else this.stats.handshakeFailed += 1;
      reporter(event);
    });
  }

  /** open is how many admitted connections are open now (counted only with a count limit). */
  get open(): number {
    return this.#rules.open;
  }

  /** watch observes a server's accept errors (EMFILE) and failed TLS handshakes, and puts it under the descriptor budget. */
  watch(server: Server): void {
    if (typeof server.address() === 'string') this.#unixServers.add(server);
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EMFILE' || err.code === 'ENFILE') this.#outOfDescriptors(err.code);
    });
    this.#budget?.add(server);
    if (server instanceof TlsServer) this.#handshakes.watch(server);
  }

  /** admit checks a raw socket against every limit; it resets and refuses the socket when one says no. */
  admit(socket: Socket): boolean {
    const server = serverOf(socket);
    const tls = server !== undefined && this.#handshakes.watches(server);
    if (this.#backoff.paused()) {
      return this.#refuse(socket, tls, {
        limit: 'emfile',
        detail: 'refused: out of file descriptors, accepting is paused',
      });
    }
    // The peer's address is read only when a rule needs it (reading it costs a system call and
    // a cached object per socket); Unix peers have none, so only maxConnections applies to them.
    let ip: string | undefined;
    if ((this.#rules.needsAddress || tls) && !(server !== undefined && this.#unixServers.has(server))) {
      const remote = socket.remoteAddress;
      if (remote === undefined) {
        // The client reset before we looked: there is nobody to serve or to refuse.
        socket.destroy();
        return false;
      }
      ip = unmapIPv4(remote);
      if (tls) this.#handshakes.remember(socket, formatHostPort(ip, socket.remotePort ?? 0));
    }
    const refusal = this.#rules.admit(ip);
    if (refusal) return this.#refuse(socket, tls, refusal);
    if (this.#rules.counts) socket.once('close', () => this.#rules.release(ip));
    return true;
  }

  /** accepted starts the idle timer on a ready connection's socket, when there is an idle timeout. */
  accepted(socket: Socket): void {
    const idle = this.#idleTimeout;
    if (idle === undefined) return;
    // Node restarts this timer on every read and write, so traffic either way keeps the connection.
    socket.setTimeout(idle);
    socket.once('timeout', () => {
      this.stats.timedOut.idle += 1;
      this.#report({
        limit: 'idle-timeout',
        peer: limitPeer(socket),
        detail: `closed: idle for ${formatDuration(idle)}`,
        option: { name: 'idleTimeout', value: idle },
      });
      socket.destroy();
    });
  }

  #refuse(
    socket: Socket,
    tls: boolean,
    refusal: Omit<LimitEvent, 'peer' | 'limit'> & { limit: keyof GuardStats['refused'] },
  ): false {
    this.stats.refused[refusal.limit] += 1;
    this.#report({ ...refusal, peer: limitPeer(socket) });
    if (tls) this.#handshakes.refused(socket);
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

  #outOfDescriptors(code: string): void {
    const pause = this.#backoff.failed();
    if (pause === undefined) return;
    this.stats.emfilePauses += 1;
    this.#report({
      limit: 'emfile',
      peer: '',
      detail: `accept failed: too many open files (${code}); refusing new connections for ${formatDuration(pause)}`,
    });
  }
}
