/**
 * Access control by address: `--allow CIDR` and `--deny CIDR`, IPv4 and IPv6, matched with
 * Node's `net.BlockList`. A deny rule always wins; when any allow rule exists, only addresses it
 * covers get in.
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';

/** Cidr is a network: an address and a prefix length (`198.51.100.0/24`, `2001:db8::/32`, a bare address is /32 or /128). */
export interface Cidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/**
 * parseCidr reads `ADDRESS/PREFIX` or a bare address (a single host). IPv6 may be written with or
 * without brackets. Throws UsageError naming `what` and the text when it is malformed or the
 * prefix is out of range (0-32 for IPv4, 0-128 for IPv6).
 */
export function parseCidr(text: string, what = 'cidr'): Cidr {
  const slash = text.indexOf('/');
  const addressText = (slash < 0 ? text : text.slice(0, slash)).replace(/^\[(.*)\]$/, '$1');
  const family = isIP(addressText);
  if (family === 0)
    throw new UsageError(
      what,
      `invalid address in "${text}" (expected e.g. 198.51.100.0/24 or 2001:db8::/32)`,
    );
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new UsageError(what, `invalid prefix length in "${text}" (expected 0-${max})`);
  }
  return { network: addressText, prefix: Number(prefixText), family: family as 4 | 6 };
}

/** AccessRules holds allow and deny networks and answers whether an address may connect. */
export class AccessRules {
  readonly #allow = new BlockList();
  readonly #deny = new BlockList();
  readonly #hasAllow: boolean;

  /** The constructor takes parsed networks; see `parseCidr`. */
  constructor(allow: readonly Cidr[], deny: readonly Cidr[]) {
    for (const c of allow) this.#allow.addSubnet(c.network, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
    for (const c of deny) this.#deny.addSubnet(c.network, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
    this.#hasAllow = allow.length > 0;
  }

  /**
   * permits tells whether `address` may connect: not covered by any deny rule, and covered by an
   * allow rule when there is one. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack
   * socket reports IPv4 peers) is judged as the IPv4 address it carries. A string that is not an
   * IP address is refused.
   */
  permits(address: string): boolean {
    const ip = unmapIPv4(address);
    const family = isIP(ip);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.#deny.check(ip, type)) return false;
    return !this.#hasAllow || this.#allow.check(ip, type);
  }
}

/** unmapIPv4 turns `::ffff:1.2.3.4` into `1.2.3.4` and strips an IPv6 zone (`fe80::1%eth0`); other addresses pass unchanged. */
export function unmapIPv4(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  return address.replace(/%.*$/, '');
}
