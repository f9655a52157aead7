/**
 * ReplyBudget keeps a UDP service from being used as a reflector. A UDP sender's address can be
 * forged: an attacker sends small requests "from" a victim, and the service sends its larger
 * replies to the victim (chargen answers an empty datagram with up to 512 bytes: about ten times
 * the bytes on the wire). The budget caps the replies sent to one source per second, so whatever
 * an attacker sends, a victim gets at most that many replies a second from this server.
 *
 * A source is an IPv4 address, or an IPv6 /64 network (one host usually owns a whole /64, so
 * counting IPv6 addresses one by one would let an attacker spread a flood over 2^64 "sources").
 * Sockets bound to loopback are exempt unless asked: nothing outside this host can reach them,
 * and no packet to loopback leaves it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatHostPort } from '../address.js';
import type { Peer } from '../datagram/packet-conn.js';
import { ipv6FromBytes, ipv6ToBytes } from '../raw/ip-address.js';
import { unmapIPv4 } from './access.js';
import { type LimitEvent, reportingSafely } from './limit-event.js';
import { SenderWindow } from './sender-window.js';

/** DEFAULT_REPLY_BUDGET is the replies per second one source gets by default (ReplyBudgetOptions.perSecond). */
export const DEFAULT_REPLY_BUDGET = 10;

/** ReplyBudgetOptions tune a ReplyBudget. */
export interface ReplyBudgetOptions {
  /** At most this many replies per second to one source. Default DEFAULT_REPLY_BUDGET (10). */
  readonly perSecond?: number | undefined;
  /** Budget sockets bound to loopback too. Default false: loopback cannot be reached from elsewhere. */
  readonly onLoopback?: boolean | undefined;
}

/**
 * ReplyBudget decides, per datagram, whether its source may still be answered this second, and
 * is told how many replies were sent. `servePackets` applies it (PacketServeOptions.replyBudget);
 * datagrams from a source that has spent its budget are dropped unanswered and reported.
 */
export class ReplyBudget {
  /** Replies per second to one source. */
  readonly perSecond: number;
  /** Whether sockets bound to loopback are budgeted too. */
  readonly onLoopback: boolean;
  readonly #report: (event: LimitEvent) => void;
  readonly #spent = new SenderWindow();

  /**
   * The constructor takes the options and a function told of every datagram dropped (one that
   * throws is ignored). Throws RangeError unless `perSecond` is a positive whole number.
   */
  constructor(options: ReplyBudgetOptions = {}, report: (event: LimitEvent) => void = () => {}) {
    const perSecond = options.perSecond ?? DEFAULT_REPLY_BUDGET;
    if (!(Number.isInteger(perSecond) && perSecond > 0))
      throw new RangeError(`perSecond must be a positive whole number, not ${perSecond}`);
    this.perSecond = perSecond;
    this.onLoopback = options.onLoopback === true;
    this.#report = reportingSafely(report);
  }

  /** covers tells whether a socket bound to `host` (an IP literal) is budgeted. */
  covers(host: string): boolean {
    return this.onLoopback || !isLoopbackHost(host);
  }

  /** allows returns true when `peer`'s source may be answered now; false (reported) to drop its datagram. */
  allows(peer: Peer): boolean {
    const source = sourceOf(peer.address);
    const spent = this.#spent.count(source);
    if (spent < this.perSecond && !this.#spent.full(source)) return true;
    const overBudget = spent >= this.perSecond;
    this.#report({
      limit: 'reply-budget',
      peer: formatHostPort(unmapIPv4(peer.address), peer.port),
      detail: `dropped unanswered: ${overBudget ? `${spent} replies this second to ${source}` : 'too many sources this second'}`,
      option: overBudget ? { name: 'replyBudget', value: this.perSecond } : undefined,
    });
    return false;
  }

  /** spend charges `replies` datagrams sent to answer `peer` against its source's budget. */
  spend(peer: Peer, replies: number): void {
    if (replies <= 0) return;
    const source = sourceOf(peer.address);
    this.#spent.count(source);
    this.#spent.add(source, replies);
  }
}

/**
 * isLoopbackHost tells whether `host`, an IP literal a socket is bound to, is loopback:
 * 127.0.0.0/8, ::1, or an IPv4-mapped loopback address. The wildcards (0.0.0.0, ::) are not: a
 * socket bound to them is reachable from every interface.
 */
export function isLoopbackHost(host: string): boolean {
  const ip = unmapIPv4(host);
  if (isIPv4(ip)) return ip.startsWith('127.');
  return isIPv6(ip) && ipv6ToBytes(ip).equals(IPV6_LOOPBACK);
}

const IPV6_LOOPBACK = ipv6ToBytes('::1');

/** sourceOf names the source a reply is charged to: the IPv4 address, or the IPv6 address's /64. */
export function sourceOf(address: string): string {
  const ip = unmapIPv4(address);
  if (!isIPv6(ip)) return ip;
  const bytes = ipv6ToBytes(ip);
  bytes.fill(0, 8);
  return `${ipv6FromBytes(bytes)}/64`;
}
