/**
 * A hex dump annotated by field: every header field on its own line, its offset, its bytes and
 * what they mean. It is where a learner sees what a packet is made of. It never throws: a
 * truncated or malformed packet is shown as far as it goes, with the reason where it stops.
 */
import { expectedChecksum, IcmpType, type IpFamily, type Pseudo } from './icmp.js';
import { describeIcmpError, icmpTypeName } from './icmp-names.js';
import { ipv4FromBytes, ipv6FromBytes } from './ip-address.js';

/** Field is one annotated stretch of a packet. `depth` is 1 inside an ICMP error's quoted packet. */
export interface Field {
  readonly offset: number;
  readonly length: number;
  readonly label: string;
  readonly depth: number;
}

/** PacketLayout says what a dumped packet starts with. */
export interface PacketLayout {
  readonly family: IpFamily;
  /** True when the bytes start with an IPv4 header (what raw IPv4 sockets receive). */
  readonly ipHeader: boolean;
  /** The ICMPv6 pseudo-header addresses, so the checksum can be checked. */
  readonly pseudo?: Pseudo | undefined;
}

const protocolNames: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };

/** packetFields splits `bytes` into annotated fields according to `layout`. */
export function packetFields(bytes: Uint8Array, layout: PacketLayout): Field[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Field[] = [];
  let offset = 0;
  if (layout.ipHeader && layout.family === 4) {
    offset = ipv4Fields(data, 0, 0, fields);
    if (offset < 0) return fields;
  }
  icmpFields(layout.family, data, offset, fields, layout.pseudo);
  return fields;
}

/**
 * formatHexdump renders `fields` of `bytes` one per line: offset, up to 8 bytes in hex, label.
 * Longer fields continue on following lines; a payload shows its first `maxPayload` bytes.
 */
export function formatHexdump(bytes: Uint8Array, fields: readonly Field[], maxPayload = 32): string {
  const lines: string[] = [];
  for (const field of fields) {
    const indent = '  '.repeat(field.depth);
    const shown = Math.min(field.length, field.label.startsWith('payload') ? maxPayload : field.length);
    for (let at = 0; at < Math.max(shown, 1); at += 8) {
      const chunk = Array.from(bytes.subarray(field.offset + at, field.offset + Math.min(at + 8, shown)));
      const hex = chunk.map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
      const label = at === 0 ? `${indent}${field.label}` : '';
      lines.push(
        `  ${(field.offset + at).toString(16).padStart(4, '0')}  ${hex.padEnd(23)}  ${label}`.trimEnd(),
      );
    }
    if (shown < field.length) lines.push(`        ... ${field.length - shown} more bytes`);
  }
  return `${lines.join('\n')}\n`;
}

/** Returns the offset after the header, or -1 when the header could not be read whole. */
function ipv4Fields(data: Buffer, base: number, depth: number, fields: Field[]): number {
  const push = (offset: number, length: number, label: string): void => {
    fields.push({ offset: base + offset, length, label, depth });
  };
  const available = data.length - base;
  if (available < 20) {
    push(0, Math.max(available, 0), `IPv4 header truncated: ${available} bytes, need 20`);
    return -1;
  }
  const headerLength = (data.readUInt8(base) & 0x0f) * 4;
  const flags = data.readUInt16BE(base + 6);
  const flagNames =
    [flags & 0x4000 ? 'DF' : '', flags & 0x2000 ? 'MF' : ''].filter(Boolean).join(' ') || 'none';
  const protocol = data.readUInt8(base + 9);
  push(0, 1, `IPv4: version ${data.readUInt8(base) >> 4}, header length ${headerLength}`);
  push(1, 1, `DSCP ${data.readUInt8(base + 1) >> 2}, ECN ${data.readUInt8(base + 1) & 3}`);
  push(2, 2, `total length ${data.readUInt16BE(base + 2)}`);
  push(
    4,
    2,
    `identification 0x${data
      .readUInt16BE(base + 4)
      .toString(16)
      .padStart(4, '0')}`,
  );
  push(6, 2, `flags ${flagNames}, fragment offset ${(flags & 0x1fff) * 8}`);
  push(8, 1, `TTL ${data[base + 8]}`);
  push(9, 1, `protocol ${protocol} (${protocolNames[protocol] ?? 'other'})`);
  push(
    10,
    2,
    `header checksum 0x${data
      .readUInt16BE(base + 10)
      .toString(16)
      .padStart(4, '0')}`,
  );
  push(12, 4, `source ${ipv4FromBytes(data, base + 12)}`);
  push(16, 4, `destination ${ipv4FromBytes(data, base + 16)}`);
  if (headerLength > 20) push(20, Math.min(headerLength, available) - 20, 'options');
  if (headerLength < 20 || available < headerLength) return -1;
  return base + headerLength;
}

function ipv6Fields(data: Buffer, base: number, depth: number, fields: Field[]): number {
  const push = (offset: number, length: number, label: string): void => {
    fields.push({ offset: base + offset, length, label, depth });
  };
  const available = data.length - base;
  if (available < 40) {
    push(0, Math.max(available, 0), `IPv6 header truncated: ${available} bytes, need 40`);
    return -1;
  }
  const first = data.readUInt32BE(base);
  const next = data.readUInt8(base + 6);
  push(
    0,
    4,
    `IPv6: version ${first >>> 28}, traffic class ${(first >>> 20) & 0xff}, flow label ${first & 0xfffff}`,
  );
  push(4, 2, `payload length ${data.readUInt16BE(base + 4)}`);
  push(6, 1, `next header ${next} (${protocolNames[next] ?? 'other'})`);
  push(7, 1, `hop limit ${data[base + 7]}`);
  push(8, 16, `source ${ipv6FromBytes(data, base + 8)}`);
  push(24, 16, `destination ${ipv6FromBytes(data, base + 24)}`);
  return base + 40;
}

function icmpFields(
  family: IpFamily,
  data: Buffer,
  base: number,
  fields: Field[],
  pseudo?: Pseudo,
  depth = 0,
): void {
  const push = (offset: number, length: number, label: string): void => {
    fields.push({ offset: base + offset, length, label, depth });
  };
  const available = data.length - base;
  const name = family === 4 ? 'ICMP' : 'ICMPv6';
  if (available < 8) {
    push(0, Math.max(available, 0), `${name} header truncated: ${available} bytes, need 8`);
    return;
  }
  const type = data.readUInt8(base);
  const code = data.readUInt8(base + 1);
  const checksum = data.readUInt16BE(base + 2);
  const rest = data.readUInt32BE(base + 4);
  const types = IcmpType[family];
  const isEcho = type === types.echoRequest || type === types.echoReply;
  const isError = [types.unreachable, types.timeExceeded, types.parameterProblem, IcmpType[6].packetTooBig]
    .filter((t) => family === 6 || t !== IcmpType[6].packetTooBig)
    .includes(type as never);
  push(0, 1, `${name}: type ${type} (${icmpTypeName(family, type)})`);
  push(1, 1, isError ? `code ${code} (${describeIcmpError(family, type, code, rest)})` : `code ${code}`);
  push(
    2,
    2,
    `checksum 0x${checksum.toString(16).padStart(4, '0')}${checksumNote(family, data.subarray(base), depth, pseudo)}`,
  );
  if (isEcho) {
    push(
      4,
      2,
      `identifier ${data.readUInt16BE(base + 4)} (0x${data
        .readUInt16BE(base + 4)
        .toString(16)
        .padStart(4, '0')})`,
    );
    push(6, 2, `sequence ${data.readUInt16BE(base + 6)}`);
    if (available > 8) push(8, available - 8, `payload, ${available - 8} bytes`);
    return;
  }
  if (!isError) {
    push(4, 4, 'message body');
    if (available > 8) push(8, available - 8, `payload, ${available - 8} bytes`);
    return;
  }
  push(4, 4, rest === 0 ? 'unused' : `${family === 6 && type === 4 ? 'pointer' : 'next-hop MTU'} ${rest}`);
  if (depth > 0 || available <= 8) return;
  // The quoted packet: the IP header and the start of the payload that provoked the error.
  fields.push({ offset: base + 8, length: 0, label: 'quoted packet:', depth: 1 });
  const upper = family === 4 ? ipv4Fields(data, base + 8, 1, fields) : ipv6Fields(data, base + 8, 1, fields);
  if (upper < 0 || upper >= data.length) return;
  const protocol = family === 4 ? data[base + 8 + 9] : data[base + 8 + 6];
  if (protocol === (family === 4 ? 1 : 58)) {
    icmpFields(family, data, upper, fields, undefined, 1);
  } else if (protocol === 17 && data.length - upper >= 8) {
    fields.push({
      offset: upper,
      length: 2,
      label: `UDP: source port ${data.readUInt16BE(upper)}`,
      depth: 1,
    });
    fields.push({
      offset: upper + 2,
      length: 2,
      label: `destination port ${data.readUInt16BE(upper + 2)}`,
      depth: 1,
    });
    fields.push({ offset: upper + 4, length: 2, label: `length ${data.readUInt16BE(upper + 4)}`, depth: 1 });
    fields.push({
      offset: upper + 6,
      length: 2,
      label: `checksum 0x${data
        .readUInt16BE(upper + 6)
        .toString(16)
        .padStart(4, '0')}`,
      depth: 1,
    });
    if (data.length - upper > 8)
      fields.push({
        offset: upper + 8,
        length: data.length - upper - 8,
        label: `payload, ${data.length - upper - 8} bytes`,
        depth: 1,
      });
  } else {
    fields.push({
      offset: upper,
      length: data.length - upper,
      label: `payload, ${data.length - upper} bytes`,
      depth: 1,
    });
  }
}

function checksumNote(family: IpFamily, message: Buffer, depth: number, pseudo?: Pseudo): string {
  // A quoted message is cut short, so its checksum cannot be checked; ICMPv6 needs the addresses.
  if (depth > 0) return '';
  if (family === 6 && !pseudo) return ' (covers an IPv6 pseudo-header; the kernel fills it in and checks it)';
  const expected = expectedChecksum(family, message, pseudo);
  return expected === message.readUInt16BE(2)
    ? ' (correct)'
    : ` (WRONG, expected 0x${expected.toString(16).padStart(4, '0')})`;
}
