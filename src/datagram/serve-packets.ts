/**
 * servePackets runs a datagram service on bound sockets until a signal asks it to stop, the UDP
 * counterpart of `stream/serve.ts`. There are no connections to drain: stopping closes the sockets.
 */
import { aborted } from '../stream/serve.js';
import type { PacketConn, Peer } from './packet-conn.js';

/**
 * DatagramService answers one datagram from `peer`, received on `conn` (reply with
 * `conn.write(reply, peer)`). It must not throw, and should not keep `data`: that is what keeps the
 * path lean, with nothing allocated per datagram beyond what the socket itself does.
 */
export type DatagramService = (data: Buffer, peer: Peer, conn: PacketConn) => void;

/** PacketServeOptions tune `servePackets`. */
export interface PacketServeOptions {
  /** Aborting it stops the service and closes the sockets. */
  readonly signal: AbortSignal;
  /** A gate each datagram passes first (access rules, rate per sender: see security/datagram-guard.ts). */
  readonly admit?: ((peer: Peer) => boolean) | undefined;
}

/** PacketServeSummary counts what a datagram server did, for its shutdown report. */
export interface PacketServeSummary {
  datagramsReceived: number;
  datagramsSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Datagrams dropped because a queue was full, or because the service threw on them. */
  dropped: number;
}

/**
 * servePackets passes every datagram that arrives on `conns` to `service` until `options.signal`
 * aborts, then closes every socket and resolves with a summary. A service that throws on one
 * datagram (an oversize reply, say) loses that datagram only: the error is traced and counted.
 */
export async function servePackets(
  conns: readonly PacketConn[],
  service: DatagramService,
  options: PacketServeOptions,
): Promise<PacketServeSummary> {
  const admit = options.admit;
  for (const conn of conns) {
    conn.onMessage((data, peer) => {
      if (admit !== undefined && !admit(peer)) return;
      try {
        service(data, peer, conn);
      } catch (err) {
        conn.dropped += 1;
        conn.trace('error', { detail: err instanceof Error ? err.message : String(err) });
      }
    });
  }
  await aborted(options.signal);
  await Promise.all(conns.map((c) => c.close()));
  const summary: PacketServeSummary = {
    datagramsReceived: 0,
    datagramsSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    dropped: 0,
  };
  for (const conn of conns) {
    summary.datagramsReceived += conn.datagramsReceived;
    summary.datagramsSent += conn.datagramsSent;
    summary.bytesReceived += conn.bytesReceived;
    summary.bytesSent += conn.bytesSent;
    summary.dropped += conn.dropped;
  }
  return summary;
}
