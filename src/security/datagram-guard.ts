/**
 * DatagramGuard is the UDP counterpart of ConnectionGuard: with no connections to count, it
 * judges each datagram by its sender. `access` applies as for streams; `maxPerIp` means at most
 * that many datagrams per second from one IP address. What it refuses is dropped unread and
 * counted, never answered, so a flood (or a spoofed sender) cannot make the server reflect it.
 */
import { formatHostPort } from '../address.js';
import type { Peer } from '../datagram/packet-conn.js';
import type { AccessRules } from './access.js';
import { unmapIPv4 } from './access.js';
import { type LimitEvent, reportingSafely } from './limit-event.js';
import { SenderWindow } from './sender-window.js';

/** DatagramLimits lists the limits a DatagramGuard enforces; an absent one is off. */
export interface DatagramLimits {
  /** Who may send: datagrams from senders these rules do not permit are dropped. */
  readonly access?: AccessRules | undefined;
  /** At most this many datagrams per second from one IP address; the rest are dropped. */
  readonly maxPerIp?: number | undefined;
}

/** DatagramGuardStats counts the datagrams a guard dropped, by the limit that dropped them. */
export interface DatagramGuardStats {
  readonly dropped: { access: number; 'max-per-ip': number };
}

/** DatagramGuard decides, datagram by datagram, whether a server should handle it. */
export class DatagramGuard {
  readonly stats: DatagramGuardStats = { dropped: { access: 0, 'max-per-ip': 0 } };
  readonly #limits: DatagramLimits;
  readonly #report: (event: LimitEvent) => void;
  /** Datagrams per sender in the current one-second window. */
  readonly #counts = new SenderWindow();

  /** The constructor takes the limits and a function told of every LimitEvent. Throws RangeError for a bad maxPerIp. */
  constructor(limits: DatagramLimits, report: (event: LimitEvent) => void = () => {}) {
    const max = limits.maxPerIp;
    if (max !== undefined && !(Number.isInteger(max) && max > 0))
      throw new RangeError(`maxPerIp must be a positive whole number, not ${max}`);
    this.#limits = limits;
    this.#report = reportingSafely(report);
  }

  /** admit returns true when a datagram from `peer` may be handled, false (counted, reported) to drop it. */
  admit(peer: Peer): boolean {
    const ip = unmapIPv4(peer.address);
    const { access, maxPerIp } = this.#limits;
    if (access && !access.permits(ip)) {
      this.stats.dropped.access += 1;
      this.#report({
        limit: 'access',
        peer: formatHostPort(ip, peer.port),
        detail: `dropped: ${ip} is not allowed`,
        option: { name: 'access' },
      });
      return false;
    }
    if (maxPerIp === undefined) return true;
    const seen = this.#counts.count(ip);
    if (this.#counts.full(ip)) return this.#dropRate(ip, peer.port, 'too many senders this second');
    if (seen >= maxPerIp)
      return this.#dropRate(ip, peer.port, `over ${maxPerIp} datagrams this second from ${ip}`, {
        name: 'maxPerIp',
        value: maxPerIp,
      });
    this.#counts.add(ip);
    return true;
  }

  #dropRate(ip: string, port: number, why: string, option?: LimitEvent['option']): false {
    this.stats.dropped['max-per-ip'] += 1;
    this.#report({ limit: 'max-per-ip', peer: formatHostPort(ip, port), detail: `dropped: ${why}`, option });
    return false;
  }
}
