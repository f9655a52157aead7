/**
 * servePackets runs a datagram service on bound sockets until a signal asks it to stop, the UDP
 * counterpart of `stream/serve.ts`. There are no connections to drain: stopping closes the sockets.
 */
import { formatHostPort } from '../address.js';
import { traceStep } from '../internal.js';
import { type LimitEvent, reportingSafely } from '../security/limit-event.js';
import type { ReplyBudget } from '../security/reply-budget.js';
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
  /**
   * Caps the replies to each source on the sockets it covers (by default those not bound to
   * loopback), so the service cannot be aimed at a forged sender: see security/reply-budget.ts.
   * Without it, replies are not limited.
   */
  readonly replyBudget?: ReplyBudget | undefined;
  /**
   * report is told, as a `service-error` LimitEvent, of each datagram the service (or `admit`)
   * threw on: that datagram is dropped, the others are served.
   */
  readonly report?: ((event: LimitEvent) => void) | undefined;
}

/** PacketServeSummary counts what a datagram server did, for its shutdown report. */
export interface PacketServeSummary {
  datagramsReceived: number;
  datagramsSent: number;
  bytesReceived: number;
  bytesSent: number;
  /** Datagrams dropped because a queue was full, or because the service threw on them. */
  dropped: number;
  /** Datagrams dropped unanswered because their source had spent its reply budget. */
  overBudget: number;
}

/**
 * servePackets passes every datagram that arrives on `conns` to `service` until `options.signal`
 * aborts, then closes every socket and resolves with a summary. A service that throws on one
 * datagram (an oversize reply, say) loses that datagram only: the error is traced, counted and
 * reported. With a reply budget, the replies the service sends while handling a datagram are
 * charged to the datagram's source, and a source past its budget is not answered.
 */
export async function servePackets(
  conns: readonly PacketConn[],
  service: DatagramService,
  options: PacketServeOptions,
): Promise<PacketServeSummary> {
  const { admit, replyBudget } = options;
  const report = reportingSafely(options.report ?? ignore);
  let overBudget = 0;
  // Datagrams the service threw on: the server's drops, counted here (a PacketConn counts its own).
  let failed = 0;
  for (const conn of conns) {
    const budget = replyBudget?.covers(conn.localAddress.host) ? replyBudget : undefined;
    conn.onMessage((data, peer) => {
      // The last line of defence: whatever this datagram does to the service, to the gate or to
      // the budget, it loses this datagram only, never the server.
      try {
        if (admit !== undefined && !admit(peer)) return;
        if (budget === undefined) {
          service(data, peer, conn);
          return;
        }
        if (!budget.allows(peer)) {
          overBudget += 1;
          return;
        }
        const sentBefore = conn.datagramsSent;
        try {
          service(data, peer, conn);
        } finally {
          budget.spend(peer, conn.datagramsSent - sentBefore);
        }
      } catch (err) {
        failed += 1;
        const detail = err instanceof Error ? err.message : String(err);
        conn[traceStep]('error', { detail });
        report({
          limit: 'service-error',
          peer: formatHostPort(peer.address, peer.port),
          detail: `datagram dropped: the service failed on it: ${detail}`,
        });
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
    dropped: failed,
    overBudget,
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

function ignore(): void {}
