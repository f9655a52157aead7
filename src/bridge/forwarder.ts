/**
 * Forwarder is what a running forward hands back (its addresses, and its summary once done) and
 * what it tells its operator on the way: shared by `forward` and `forwardPackets`.
 */
import type { SocketAddress } from '../address.js';
import type { SockkitError } from '../errors.js';

/** ForwardEvent is something a forward did that its operator may want to know. */
export type ForwardEvent =
  | {
      /** A target failed for one client, and the next was tried. */
      readonly type: 'target-skipped';
      readonly peer: string;
      readonly target: string;
      readonly error: SockkitError;
    }
  | {
      /** No target answered: the client was closed at once. */
      readonly type: 'no-target';
      readonly peer: string;
      /** Each target's failure, in the order tried. */
      readonly errors: readonly SockkitError[];
    };

/** ForwardSummary counts what a forward did, for its shutdown report. */
export interface ForwardSummary {
  /** Clients accepted (udp://: client peers, each with its own upstream socket). */
  clients: number;
  /** Clients closed because no target answered. */
  noTarget: number;
  /** Bytes from clients to targets, and back. */
  bytesToTargets: number;
  bytesToClients: number;
  /** Clients still open at the end of the grace period, and closed by force. */
  forciblyClosed: number;
  /** udp:// only: datagrams dropped (a session limit, a socket's full queue). */
  dropped: number;
}

/** Forwarder is a running forward: where it listens, and its end. */
export interface Forwarder {
  /** The bound addresses, with the real port when port 0 was asked. */
  readonly addresses: readonly SocketAddress[];
  /** done resolves with the summary once the signal has stopped the forward and everything is closed. It never rejects. */
  readonly done: Promise<ForwardSummary>;
}
