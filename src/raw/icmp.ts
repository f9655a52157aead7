/**
 * ICMP messages for IPv4 (RFC 792) and IPv6 (RFC 4443): echo requests and replies are built and
 * parsed in full; errors (destination unreachable, time exceeded, packet too big, parameter
 * problem) are parsed down to the packet they quote, so a reply can be matched to its request.
 * Pure functions: bytes in, values out, no socket.
 */
import { PacketError } from '../errors.js';
import { icmpv6PseudoHeader, internetChecksum } from './checksum.js';
import { decodeIPv4Header, type IPv4Header } from './ipv4-header.js';
import { decodeIPv6Header, type IPv6Header } from './ipv6-header.js';
import { decodeUdpHeader, type UdpHeader } from './udp-header.js';

/** IpFamily is 4 for IPv4 with ICMP, 6 for IPv6 with ICMPv6. */
export type IpFamily = 4 | 6;

/** ICMP_HEADER is the length of every ICMP header: type, code, checksum and one more word. */
export const ICMP_HEADER = 8;

/** ICMP type numbers sockkit builds or reads, per family. */
export const IcmpType = {
  4: { echoReply: 0, unreachable: 3, echoRequest: 8, timeExceeded: 11, parameterProblem: 12 },
  6: {
    unreachable: 1,
    packetTooBig: 2,
    timeExceeded: 3,
    parameterProblem: 4,
    echoRequest: 128,
    echoReply: 129,
  },
} as const;

/** EchoMessage is an echo request or reply: the message `ping` sends and the one it awaits. */
export interface EchoMessage {
  readonly kind: 'echo-request' | 'echo-reply';
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly payload: Buffer;
}

/**
 * QuotedPacket is what an ICMP error quotes of the packet that caused it: its IP header and at
 * least the first 8 bytes of its payload (RFC 792; RFC 4443 quotes as much as fits in 1280).
 */
export interface QuotedPacket {
  readonly ip: IPv4Header | IPv6Header;
  /** The quoted packet's upper-layer protocol: 1 ICMP, 58 ICMPv6, 17 UDP, ... */
  readonly protocol: number;
  /** The quoted echo request's identifier and sequence, when the quoted packet was one. */
  readonly echo?: { readonly type: number; readonly identifier: number; readonly sequence: number };
  /** The quoted UDP header, when the quoted packet was UDP. */
  readonly udp?: UdpHeader | undefined;
  /** The quoted bytes, IP header first. */
  readonly bytes: Buffer;
}

/** ErrorMessage is an ICMP error: it names a problem and quotes the packet that met it. */
export interface ErrorMessage {
  readonly kind: 'destination-unreachable' | 'time-exceeded' | 'packet-too-big' | 'parameter-problem';
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  /** The header's second word: the next-hop MTU (unreachable code 4, packet too big), a pointer, or unused. */
  readonly rest: number;
  readonly quoted: QuotedPacket;
}

/** OtherMessage is any other ICMP message (neighbor discovery, redirects...): its header and body. */
export interface OtherMessage {
  readonly kind: 'other';
  readonly type: number;
  readonly code: number;
  readonly checksum: number;
  readonly body: Buffer;
}

/** IcmpMessage is a decoded ICMP or ICMPv6 message. */
export type IcmpMessage = EchoMessage | ErrorMessage | OtherMessage;

/** Pseudo is the address pair an ICMPv6 checksum covers (RFC 4443 section 2.3). */
export interface Pseudo {
  readonly source: string;
  readonly destination: string;
}

/** EchoFields are the parts of an echo message its sender chooses. */
export interface EchoFields {
  readonly identifier: number;
  readonly sequence: number;
  readonly payload?: Uint8Array | undefined;
}

/**
 * encodeEcho builds an echo request (or, with `reply`, an echo reply) for `family`, checksum
 * included. ICMPv6's checksum covers a pseudo-header, so it needs `pseudo`; without it the
 * checksum is left 0 for the kernel to fill in, as raw ICMPv6 sockets do (RFC 3542 section 3.1).
 * Throws RangeError when the identifier or sequence is not a 16-bit number.
 */
export function encodeEcho(
  family: IpFamily,
  fields: EchoFields,
  options: { reply?: boolean | undefined; pseudo?: Pseudo | undefined } = {},
): Buffer {
  for (const [name, value] of [
    ['identifier', fields.identifier],
    ['sequence', fields.sequence],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`echo ${name} must be a whole number from 0 to 65535, got ${value}`);
    }
  }
  const payload = fields.payload ?? new Uint8Array(0);
  const message = Buffer.alloc(ICMP_HEADER + payload.length);
  const types = IcmpType[family];
  message[0] = options.reply ? types.echoReply : types.echoRequest;
  message.writeUInt16BE(fields.identifier, 4);
  message.writeUInt16BE(fields.sequence, 6);
  message.set(payload, ICMP_HEADER);
  if (family === 4) {
    message.writeUInt16BE(internetChecksum(message), 2);
  } else if (options.pseudo) {
    const { source, destination } = options.pseudo;
    message.writeUInt16BE(
      internetChecksum(icmpv6PseudoHeader(source, destination, message.length), message),
      2,
    );
  }
  return message;
}

/**
 * expectedChecksum returns the checksum `message` should carry: computed with its checksum field
 * taken as zero, over the pseudo-header too for ICMPv6.
 */
export function expectedChecksum(family: IpFamily, message: Uint8Array, pseudo?: Pseudo): number {
  const copy = Buffer.from(message);
  copy.writeUInt16BE(0, 2);
  if (family === 6) {
    if (!pseudo) throw new TypeError('an ICMPv6 checksum needs the source and destination addresses');
    return internetChecksum(icmpv6PseudoHeader(pseudo.source, pseudo.destination, copy.length), copy);
  }
  return internetChecksum(copy);
}

/**
 * decodeIcmp parses one ICMP (family 4) or ICMPv6 (family 6) message, starting at its type byte.
 * The checksum is verified for ICMPv4 always and for ICMPv6 when `pseudo` gives the addresses it
 * covers. Throws PacketError naming the reason: shorter than its header, a wrong checksum, or an
 * error message whose quoted packet is too short to read.
 */
export function decodeIcmp(family: IpFamily, bytes: Uint8Array, pseudo?: Pseudo): IcmpMessage {
  const op = `decode icmp${family === 4 ? '' : 'v6'}`;
  if (bytes.length < ICMP_HEADER) {
    throw new PacketError(op, `truncated message: ${bytes.length} bytes, need at least ${ICMP_HEADER}`);
  }
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = data[0] as number;
  const code = data[1] as number;
  const checksum = data.readUInt16BE(2);
  if (family === 4 || pseudo) {
    const expected = expectedChecksum(family, data, pseudo);
    if (expected !== checksum) {
      throw new PacketError(op, `bad checksum 0x${hex16(checksum)} (expected 0x${hex16(expected)})`);
    }
  }
  const types = IcmpType[family];
  if (type === types.echoRequest || type === types.echoReply) {
    return {
      kind: type === types.echoRequest ? 'echo-request' : 'echo-reply',
      type,
      code,
      checksum,
      identifier: data.readUInt16BE(4),
      sequence: data.readUInt16BE(6),
      payload: data.subarray(ICMP_HEADER),
    };
  }
  const errorKind = errorKindOf(family, type);
  if (errorKind) {
    return {
      kind: errorKind,
      type,
      code,
      checksum,
      rest: data.readUInt32BE(4),
      quoted: decodeQuoted(family, data.subarray(ICMP_HEADER)),
    };
  }
  return { kind: 'other', type, code, checksum, body: data.subarray(4) };
}

function errorKindOf(family: IpFamily, type: number): ErrorMessage['kind'] | undefined {
  const types = IcmpType[family];
  if (type === types.unreachable) return 'destination-unreachable';
  if (type === types.timeExceeded) return 'time-exceeded';
  if (type === types.parameterProblem) return 'parameter-problem';
  if (family === 6 && type === IcmpType[6].packetTooBig) return 'packet-too-big';
  return undefined;
}

/**
 * decodeQuoted reads the packet an ICMP error quotes: an IP header of `family`, then (when at
 * least 8 bytes follow) the echo identifier and sequence or the UDP header. Throws PacketError
 * when the quote is shorter than its IP header.
 */
export function decodeQuoted(family: IpFamily, bytes: Buffer): QuotedPacket {
  let ip: IPv4Header | IPv6Header;
  let used: number;
  try {
    ({ value: ip, used } = family === 4 ? decodeIPv4Header(bytes) : decodeIPv6Header(bytes));
  } catch (err) {
    const reason = err instanceof PacketError ? err.reason : String(err);
    throw new PacketError(`decode icmp${family === 4 ? '' : 'v6'}`, `quoted packet unreadable: ${reason}`);
  }
  const protocol = ip.version === 4 ? ip.protocol : ip.nextHeader;
  const upper = bytes.subarray(used);
  const quoted: QuotedPacket = { ip, protocol, bytes };
  if (upper.length < ICMP_HEADER) return quoted;
  if (protocol === (family === 4 ? 1 : 58)) {
    const type = upper[0] as number;
    if (type === IcmpType[family].echoRequest || type === IcmpType[family].echoReply) {
      return {
        ...quoted,
        echo: { type, identifier: upper.readUInt16BE(4), sequence: upper.readUInt16BE(6) },
      };
    }
  }
  if (protocol === 17) return { ...quoted, udp: decodeUdpHeader(upper).value };
  return quoted;
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}
