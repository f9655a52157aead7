/**
 * Names for ICMP types and codes, as iputils `ping` and `traceroute` print them, so a sockkit
 * line reads like the one a user already knows. ICMPv4 from RFC 792 and RFC 1812, ICMPv6 from
 * RFC 4443 and RFC 4861.
 */

const icmpv4Types: Record<number, string> = {
  0: 'echo reply',
  3: 'destination unreachable',
  4: 'source quench',
  5: 'redirect',
  8: 'echo request',
  11: 'time exceeded',
  12: 'parameter problem',
  13: 'timestamp request',
  14: 'timestamp reply',
};

const icmpv6Types: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'multicast listener report v2',
};

// iputils ping's words for ICMPv4 destination unreachable codes (RFC 792, RFC 1812 section 5.2.7.1).
const unreachable4: Record<number, string> = {
  0: 'Destination Net Unreachable',
  1: 'Destination Host Unreachable',
  2: 'Destination Protocol Unreachable',
  3: 'Destination Port Unreachable',
  4: 'Frag needed and DF set',
  5: 'Source Route Failed',
  6: 'Destination Net Unknown',
  7: 'Destination Host Unknown',
  8: 'Source Host Isolated',
  9: 'Destination Net Prohibited',
  10: 'Destination Host Prohibited',
  11: 'Destination Net Unreachable for Type of Service',
  12: 'Destination Host Unreachable for Type of Service',
  13: 'Packet filtered',
  14: 'Precedence Violation',
  15: 'Precedence Cutoff',
};

// iputils ping's words for ICMPv6 destination unreachable codes (RFC 4443 section 3.1).
const unreachable6: Record<number, string> = {
  0: 'No route',
  1: 'Administratively prohibited',
  2: 'Beyond scope',
  3: 'Address unreachable',
  4: 'Port unreachable',
  5: 'Source address failed ingress/egress policy',
  6: 'Reject route to destination',
};

/** icmpTypeName names an ICMP type in lower case, such as `echo reply`, or `type N` when unknown. */
export function icmpTypeName(family: 4 | 6, type: number): string {
  return (family === 4 ? icmpv4Types : icmpv6Types)[type] ?? `type ${type}`;
}

/**
 * describeIcmpError words an ICMP error the way iputils `ping` does, such as `Time to live
 * exceeded` or `Destination Host Unreachable` (IPv4), `Time exceeded: Hop limit` or
 * `Destination unreachable: Address unreachable` (IPv6). `rest` is the header's second word
 * (the next-hop MTU for "fragmentation needed" and "packet too big").
 */
export function describeIcmpError(family: 4 | 6, type: number, code: number, rest = 0): string {
  if (family === 4) {
    if (type === 11) return code === 0 ? 'Time to live exceeded' : 'Frag reassembly time exceeded';
    if (type === 3) {
      const text = unreachable4[code] ?? `Dest Unreachable, Bad Code: ${code}`;
      return code === 4 ? `${text} (mtu = ${rest & 0xffff})` : text;
    }
    if (type === 12) return 'Parameter problem';
    if (type === 5) return 'Redirect';
    return `Bad ICMP type: ${type}`;
  }
  if (type === 3) return code === 0 ? 'Time exceeded: Hop limit' : 'Time exceeded: Defragmentation failure';
  if (type === 1) return `Destination unreachable: ${unreachable6[code] ?? `Unknown code ${code}`}`;
  if (type === 2) return `Packet too big: mtu=${rest >>> 0}`;
  if (type === 4) return `Parameter problem: pointer = ${rest >>> 0}`;
  return `Unknown ICMP type: ${type}`;
}

/**
 * unreachableMark returns traceroute's annotation for a destination unreachable code: `!N`
 * (network), `!H` (host), `!P` (protocol), `!X` (administratively prohibited), `!F-MTU`
 * (fragmentation needed); an empty string for port unreachable, which means the target
 * answered; `!<code>` for the rest.
 */
export function unreachableMark(family: 4 | 6, code: number, rest = 0): string {
  if (family === 4) {
    const marks: Record<number, string> = {
      0: '!N',
      1: '!H',
      2: '!P',
      3: '',
      4: `!F-${rest & 0xffff}`,
      5: '!S',
      9: '!X',
      10: '!X',
      13: '!X',
    };
    return marks[code] ?? `!${code}`;
  }
  const marks: Record<number, string> = { 0: '!N', 1: '!X', 2: '!S', 3: '!H', 4: '', 5: '!X', 6: '!X' };
  return marks[code] ?? `!${code}`;
}
