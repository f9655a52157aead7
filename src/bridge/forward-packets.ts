/**
 * forwardPackets is `forward` for UDP: each client peer heard on the listening socket gets an
 * upstream socket of its own, connected to a target, so that replies find their way back.
 */
import { formatAddress, formatHostPort, type SocketAddress } from '../address.js';
import type { PacketTapFactory } from '../capture/tap.js';
import { type DialPacketOptions, dialPacket } from '../datagram/dial-packet.js';
import { listenPackets } from '../datagram/listen-packet.js';
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import { fromSystemError, type SockkitError } from '../errors.js';
import type { DatagramFaults } from '../faults/datagram-faults.js';
import { traceStep } from '../internal.js';
import { aborted } from '../stream/serve.js';
import type { Tracer } from '../trace.js';
import { formatDuration } from '../units.js';
import type { ForwardEvent, Forwarder, ForwardSummary } from './forwarder.js';

/** DEFAULT_UDP_IDLE is how long a UDP session may stay silent (both ways) before it ends, in ms. */
export const DEFAULT_UDP_IDLE = 60_000;
/** DEFAULT_MAX_SESSIONS bounds the client peers forwarded at once, each holding a socket. */
export const DEFAULT_MAX_SESSIONS = 1024;
/** Datagrams held for a peer while its upstream socket is being made; past it, dropped. */
const PENDING_LIMIT = 64;

/** ForwardPacketsOptions tune `forwardPackets`. */
export interface ForwardPacketsOptions {
  readonly signal: AbortSignal;
  readonly trace?: Tracer | undefined;
  readonly ipv6Only?: boolean | undefined;
  /** A session silent this long (no datagram either way) is ended and its socket closed, in ms. Default 60000. */
  readonly idleTimeout?: number | undefined;
  /** At most this many client peers at once; datagrams from more are dropped. Default 1024. */
  readonly maxSessions?: number | undefined;
  /** admit decides on each datagram from a client (a DatagramGuard's `admit`); false drops it. */
  readonly admit?: ((peer: Peer) => boolean) | undefined;
  /**
   * Faults on every datagram relayed, each direction (a datagram lost, duplicated or delayed on
   * its way to the target, and again on its way back). Closing it is the caller's.
   */
  readonly faults?: DatagramFaults | undefined;
  /** onEvent is told of clients no target took (a target that cannot be reached). It must not throw. */
  readonly onEvent?: ((event: ForwardEvent) => void) | undefined;
  /** How each upstream socket is made: its local address, TTL, and the family of a target's name. */
  readonly upstream?: Pick<DialPacketOptions, 'localAddress' | 'ttl' | 'family'> | undefined;
  /**
   * Asked for a tap for each listening socket: it sees every client peer's datagrams both ways,
   * each peer a UDP flow between its address and the listener's (see Capture).
   */
  readonly tap?: PacketTapFactory | undefined;
}

interface Session {
  upstream: PacketConn | undefined;
  pending: Buffer[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * forwardPackets binds `address` (every address a name resolves to) and forwards each datagram
 * from a client peer to that peer's own upstream socket, connected to a target taken round-robin
 * when the peer is first heard from; each datagram the target sends back goes to the peer from
 * the listening socket. A session ends after `idleTimeout` of silence, or when its target answers
 * with ICMP port unreachable (the peer's next datagram starts a new one, on the next target).
 * Nothing is queued without bound: past `maxSessions` peers, or `PENDING_LIMIT` datagrams waiting
 * for a socket, datagrams are dropped and counted. Resolves once bound; the Forwarder's `done`
 * resolves after the signal, with every socket closed.
 */
export async function forwardPackets(
  address: SocketAddress,
  targets: readonly SocketAddress[],
  options: ForwardPacketsOptions,
): Promise<Forwarder> {
  const { signal } = options;
  const idle = options.idleTimeout ?? DEFAULT_UDP_IDLE;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const conns = await listenPackets(address, {
    signal,
    trace: options.trace,
    ipv6Only: options.ipv6Only,
    tap: options.tap,
  });
  const summary: ForwardSummary = {
    clients: 0,
    noTarget: 0,
    bytesToTargets: 0,
    bytesToClients: 0,
    forciblyClosed: 0,
    dropped: 0,
  };
  const sessions = new Map<string, Session>();
  let next = 0;
  const faults = options.faults;

  const end = (key: string, session: Session): Promise<void> => {
    if (sessions.get(key) !== session) return Promise.resolve();
    sessions.delete(key);
    clearTimeout(session.timer);
    return session.upstream ? session.upstream.close() : Promise.resolve();
  };
  const touch = (key: string, session: Session): void => {
    clearTimeout(session.timer);
    session.timer = setTimeout(() => {
      session.upstream?.[traceStep]('note', { detail: `idle for ${formatDuration(idle)}: session ended` });
      void end(key, session);
    }, idle);
  };
  const open = async (conn: PacketConn, peer: Peer, key: string, session: Session): Promise<void> => {
    const target = targets[next % targets.length] as SocketAddress;
    next = (next + 1) % targets.length;
    let upstream: PacketConn;
    try {
      upstream = await dialPacket(target, { ...options.upstream, trace: options.trace });
    } catch (err) {
      summary.noTarget += 1;
      options.onEvent?.({
        type: 'no-target',
        peer: formatHostPort(peer.address, peer.port),
        errors: [fromSystemError('connect', formatAddress(target), err) as SockkitError],
      });
      void end(key, session);
      return;
    }
    if (sessions.get(key) !== session) {
      void upstream.close();
      return;
    }
    session.upstream = upstream;
    // ICMP port unreachable from the target: this session is over; the next datagram tries again.
    upstream.socket.on('error', () => void end(key, session));
    const toClient = (data: Buffer): void => {
      if (!signal.aborted) conn.write(data, peer);
    };
    upstream.onMessage((data) => {
      summary.bytesToClients += data.length;
      touch(key, session);
      if (faults) faults.pass(data, toClient);
      else toClient(data);
    });
    for (const data of session.pending.splice(0)) toTarget(key, session, data);
  };

  // A datagram held back by the faults may come due once its session has ended: it is dropped.
  const toTarget = (key: string, session: Session, data: Buffer): void => {
    if (!faults) return void session.upstream?.write(data);
    faults.pass(data, (datagram) => {
      if (sessions.get(key) === session) session.upstream?.write(datagram);
    });
  };

  for (const conn of conns) {
    conn.onMessage((data, peer) => {
      if (options.admit && !options.admit(peer)) return;
      const key = `${conn.socketId} ${peer.address} ${peer.port}`;
      let session = sessions.get(key);
      if (!session) {
        if (sessions.size >= maxSessions || signal.aborted) {
          summary.dropped += 1;
          return;
        }
        session = { upstream: undefined, pending: [], timer: undefined };
        sessions.set(key, session);
        summary.clients += 1;
        void open(conn, peer, key, session);
      }
      touch(key, session);
      summary.bytesToTargets += data.length;
      if (session.upstream) toTarget(key, session, data);
      else if (session.pending.length < PENDING_LIMIT) session.pending.push(data);
      else summary.dropped += 1;
    });
  }

  const done = (async (): Promise<ForwardSummary> => {
    await aborted(signal);
    await Promise.all([
      ...[...sessions].map(([key, session]) => end(key, session)),
      ...conns.map((c) => c.close()),
    ]);
    for (const conn of conns) summary.dropped += conn.dropped;
    return summary;
  })();
  return { addresses: conns.map((c) => c.localAddress), done };
}
