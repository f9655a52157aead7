/**
 * IP addresses as the bytes a packet carries, and back to the text people read. Only literals:
 * names are resolved elsewhere (src/resolve.ts).
 */
import { isIPv6 } from 'node:net';

/** ipv4FromBytes formats the 4 bytes at `offset` as dotted decimal, such as `10.77.1.2`. */
export function ipv4FromBytes(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * ipv6FromBytes formats the 16 bytes at `offset` in the canonical form of RFC 5952 (lower case,
 * the longest run of zero groups shortened to `::`), such as `fd77:1::2`.
 */
export function ipv6FromBytes(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++)
    groups.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  // RFC 5952 section 4.2: shorten the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** ipv6ToBytes returns the 16 bytes of an IPv6 literal (a zone such as `%eth0` is ignored). */
export function ipv6ToBytes(address: string): Buffer {
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) throw new TypeError(`not an IPv6 address: ${address}`);
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number); // embedded IPv4, as in ::ffff:1.2.3.4
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = bare.split('::');
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<number>(zeros).fill(0), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => {
    bytes.writeUInt16BE(group, 2 * i);
  });
  return bytes;
}
