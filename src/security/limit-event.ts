/**
 * LimitEvent is how every guard in sockkit (ConnectionGuard, DatagramGuard, ReplyBudget) and every
 * server's last line of defence says that it acted: one value per act, handed to a report function
 * the caller supplies. The library never prints; the caller words the line (the CLI adds its flag
 * names: see `option`).
 */
import type { Socket } from 'node:net';
import { formatHostPort } from '../address.js';
import { unmapIPv4 } from './access.js';

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

/**
 * LimitOption names the option, as the library spells it, whose setting made a limit act:
 * `maxConnections`, `maxPerIp`, `access` and `idleTimeout` of ConnectionLimits (and DatagramLimits),
 * `clientCa` of the TLS listen options, `perSecond` of a ReplyBudget (`replyBudget`).
 */
export type LimitOption =
  | 'maxConnections'
  | 'maxPerIp'
  | 'access'
  | 'idleTimeout'
  | 'clientCa'
  | 'replyBudget';

/** LimitEvent reports one time a limit acted on one connection or datagram (or, for `emfile`, on accepting). */
export interface LimitEvent {
  readonly limit: LimitName;
  /** The peer, as `127.0.0.1:53122`, or `unix peer`; empty for `emfile`. */
  readonly peer: string;
  /** What happened, in words: `refused: 4 connections open`. It never names a command-line flag. */
  readonly detail: string;
  /**
   * The option that made the limit act, with its value where it has one (`{ name: 'maxConnections',
   * value: 4 }`), so that a caller can say where to change it; absent where no option is to blame.
   */
  readonly option?: { readonly name: LimitOption; readonly value?: number | undefined } | undefined;
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

/** limitPeer names a socket's peer as a LimitEvent does: `127.0.0.1:53122`, `[::1]:41000`, or `unix peer`. */
export function limitPeer(socket: Socket): string {
  if (socket.remoteAddress === undefined) return 'unix peer';
  return formatHostPort(unmapIPv4(socket.remoteAddress), socket.remotePort ?? 0);
}
