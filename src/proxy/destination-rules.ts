/**
 * Rules for where a proxy may connect (`--allow-dest`, `--deny-dest`): networks, names and port
 * ranges. A deny rule always wins; when any allow rule exists, only a destination one covers is
 * reached. Names are judged as requested and, once resolved, by every address they resolve to, so
 * a name cannot smuggle a denied network in.
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { parseCidr, unmapIPv4 } from '../security/access.js';

/** PortRange is an inclusive range of ports. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/**
 * DestinationRule is one parsed rule: a host pattern and the ports it covers (every port when
 * `ports` is empty). The host pattern is every host (`any`), a network, or a name: `example.test`
 * covers that name only, `*.example.test` its subdomains and `.example.test` both.
 */
export type DestinationRule = (
  | { readonly kind: 'any' }
  | { readonly kind: 'network'; readonly network: string; readonly prefix: number; readonly family: 4 | 6 }
  | { readonly kind: 'name'; readonly name: string; readonly subdomains: boolean; readonly exact: boolean }
) & { readonly ports: readonly PortRange[]; readonly text: string };

/**
 * parseDestinationRule reads `HOST[:PORTS]`: HOST is `*`, an address or CIDR (IPv6 in brackets
 * when ports follow: `[2001:db8::/32]:443`), or a name (`example.test`, `*.example.test`,
 * `.example.test`); PORTS is a comma-separated list of ports and ranges (`80,443,8000-8100`).
 * Throws UsageError naming `flag` and the text when it is malformed.
 */
export function parseDestinationRule(text: string, flag = 'destination rule'): DestinationRule {
  let host = text.trim();
  let portsText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1] as string;
    portsText = bracketed[2];
  } else if ((host.match(/:/g) ?? []).length === 1) {
    portsText = host.slice(host.indexOf(':') + 1);
    host = host.slice(0, host.indexOf(':'));
  }
  const ports = portsText === undefined ? [] : parsePorts(portsText, text, flag);
  if (host === '*' || host === '') return { kind: 'any', ports, text };
  const address = host.replace(/\/.*$/, '');
  if (isIP(address) !== 0 || /^[\d.]+(\/\d+)?$/.test(host)) {
    const cidr = parseCidr(host, flag);
    return { kind: 'network', network: cidr.network, prefix: cidr.prefix, family: cidr.family, ports, text };
  }
  const subdomains = host.startsWith('*.') || host.startsWith('.');
  const name = host
    .replace(/^\*?\./, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (!/^[a-z0-9_]([a-z0-9_-]*)(\.[a-z0-9_][a-z0-9_-]*)*$/.test(name)) {
    throw new UsageError(flag, `"${text}": expected *, a CIDR, an address or a name, then :PORTS if any`);
  }
  return { kind: 'name', name, subdomains, exact: !host.startsWith('*.'), ports, text };
}

function parsePorts(portsText: string, text: string, flag: string): PortRange[] {
  return portsText.split(',').map((part) => {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    const from = Number(match?.[1]);
    const to = match?.[2] === undefined ? from : Number(match[2]);
    if (!match || from > 65535 || to > 65535 || from > to) {
      throw new UsageError(flag, `"${text}": bad port or range "${part}" (expected 1-65535, or FROM-TO)`);
    }
    return { from, to };
  });
}

/** Verdict is what the rules say of a destination: allowed, or refused with the rule that refused it. */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** DestinationRules holds the allow and deny rules and judges destinations. */
export class DestinationRules {
  readonly #allow: readonly DestinationRule[];
  readonly #deny: readonly DestinationRule[];
  /** One BlockList per network rule, built once. */
  readonly #networks = new Map<DestinationRule, BlockList>();

  /** The constructor takes parsed rules; see `parseDestinationRule`. */
  constructor(allow: readonly DestinationRule[] = [], deny: readonly DestinationRule[] = []) {
    this.#allow = allow;
    this.#deny = deny;
    for (const rule of [...allow, ...deny]) {
      if (rule.kind !== 'network') continue;
      const list = new BlockList();
      list.addSubnet(rule.network, rule.prefix, rule.family === 4 ? 'ipv4' : 'ipv6');
      this.#networks.set(rule, list);
    }
  }

  /** empty is true when there is no rule at all: every destination is allowed. */
  get empty(): boolean {
    return this.#allow.length === 0 && this.#deny.length === 0;
  }

  /**
   * judge decides on a request for `host` (a name or an IP literal) and `port`, reached at
   * `addresses` (what the name resolved to; the literal itself for one; empty when the name is
   * left to an upstream proxy to resolve, and then only name rules can allow it). Denied when any
   * deny rule covers the name or one of the addresses; otherwise allowed when no allow rule exists
   * or one covers the name or every address.
   */
  judge(host: string, port: number, addresses: readonly string[]): Verdict {
    const ips = (isIP(host) !== 0 ? [host, ...addresses] : addresses).map(unmapIPv4);
    const name = isIP(host) === 0 ? host.replace(/\.$/, '').toLowerCase() : undefined;
    for (const rule of this.#deny) {
      if (covers(rule, this.#networks.get(rule), name, ips, port, 'some'))
        return { allowed: false, reason: `destination denied by rule ${rule.text}` };
    }
    if (this.#allow.length === 0) return { allowed: true };
    for (const rule of this.#allow)
      if (covers(rule, this.#networks.get(rule), name, ips, port, 'every')) return { allowed: true };
    return { allowed: false, reason: 'destination not covered by any allow rule' };
  }
}

/** covers tells whether `rule` covers the destination: by name, or by `some`/`every` of its addresses. */
function covers(
  rule: DestinationRule,
  list: BlockList | undefined,
  name: string | undefined,
  ips: readonly string[],
  port: number,
  quantifier: 'some' | 'every',
): boolean {
  if (rule.ports.length > 0 && !rule.ports.some((r) => port >= r.from && port <= r.to)) return false;
  switch (rule.kind) {
    case 'any':
      return true;
    case 'name':
      if (name === undefined) return false;
      if (rule.exact && name === rule.name) return true;
      return rule.subdomains && name.endsWith(`.${rule.name}`);
    case 'network': {
      if (ips.length === 0 || !list) return false;
      const inside = (ip: string): boolean => {
        const family = isIP(ip);
        return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
      };
      return quantifier === 'some' ? ips.some(inside) : ips.every(inside);
    }
  }
}
