/**
 * Socket filters for one flow: the classic BPF program (Linux socket filter, SO_ATTACH_FILTER)
 * that makes the kernel hand a raw TCP or UDP socket only the answers of its own flow, and the same
 * test in JavaScript for what the kernel queued before the program was attached (or all of it, when
 * it could not be). A raw transport socket is otherwise handed a copy of every segment of its
 * protocol on the host; under bulk traffic the one RST a trace waits for was dropped from a full
 * buffer, and the JavaScript thread was kept busy copying segments it would throw away.
 *
 * Where the program reads: a negative offset from SKF_NET_OFF addresses the network (IP) header
 * in both families. Offset 0 is the start of the data the socket is handed: the IPv4 header on a
 * raw IPv4 socket, but the transport header on a raw IPv6 socket (the IPv6 header and any
 * extension headers are already pulled, as RFC 3542 section 3 has recvmsg return it). So the
 * ports are read after the IPv4 header's IHL, or at offset 0 on IPv6. Checked with real traffic
 * on loopback in test/raw/transport-socket.test.ts.
 */

import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';
import { ipv6FromBytes, ipv6ToBytes } from './ip-address.js';

/** TransportFlow is the one flow a raw transport socket is for, as the answers to its probes carry it. */
export interface TransportFlow {
  /** The target's IP literal: the source of every answer. */
  readonly remoteAddress: string;
  /** The target's port: the source port of every answer. */
  readonly remotePort: number;
  /** The probes' source port: the destination port of every answer. */
  readonly localPort: number;
}

/** SocketFilterInstruction is one classic BPF instruction (`struct sock_filter`). */
export interface SocketFilterInstruction {
  readonly code: number;
  /** Instructions to skip when a jump's test holds, and when it does not. */
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** Classic BPF opcodes (linux/bpf_common.h, linux/filter.h) this module uses. */
export const Bpf = {
  LD_W_ABS: 0x20, // A = u32 at k
  LD_H_ABS: 0x28, // A = u16 at k
  LD_H_IND: 0x48, // A = u16 at X + k
  LDX_B_MSH: 0xb1, // X = 4 * (u8 at k & 0xf): an IPv4 header's length
  JEQ_K: 0x15, // A == k ? skip jt : skip jf
  RET_K: 0x06, // accept k bytes (0: drop)
} as const;

/** SKF_NET_OFF (linux/filter.h): added to an offset, it addresses the network header. */
export const SKF_NET_OFF = -0x100000;
/** What an accepting program returns: keep the whole datagram. */
const ACCEPT = 0xffff_ffff;
/** The size of one encoded instruction: u16 code, u8 jt, u8 jf, u32 k. */
export const INSTRUCTION_BYTES = 8;

/**
 * flowFilterProgram returns the program that accepts a datagram only when it comes from
 * `flow.remoteAddress`, from port `remotePort`, to port `localPort` (TCP and UDP keep both ports
 * in their first four bytes), and drops every other. Throws TypeError when `remoteAddress` is not
 * an IP literal, RangeError when a port is not 0 to 65535.
 */
export function flowFilterProgram(flow: TransportFlow): SocketFilterInstruction[] {
  for (const [name, port] of [
    ['remotePort', flow.remotePort],
    ['localPort', flow.localPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff)
      throw new RangeError(`${name} must be 0 to 65535, got ${port}`);
  }
  const address = addressWords(flow.remoteAddress);
  // Each test jumps to the final `drop` when it fails; `end` counts the instructions after it.
  const program: Array<(end: number) => SocketFilterInstruction> = [];
  const load = (code: number, k: number): void => {
    program.push(() => ({ code, jt: 0, jf: 0, k: k >>> 0 }));
  };
  const expect = (value: number): void => {
    const at = program.length;
    program.push((end) => ({ code: Bpf.JEQ_K, jt: 0, jf: end - at - 1, k: value >>> 0 }));
  };
  address.forEach((word, i) => {
    // IPv4 source address at 12, IPv6 at 8, both in the network header.
    load(Bpf.LD_W_ABS, SKF_NET_OFF + (address.length === 1 ? 12 : 8 + 4 * i));
    expect(word);
  });
  if (address.length === 1) {
    load(Bpf.LDX_B_MSH, SKF_NET_OFF);
    load(Bpf.LD_H_IND, SKF_NET_OFF);
    expect(flow.remotePort);
    load(Bpf.LD_H_IND, SKF_NET_OFF + 2);
    expect(flow.localPort);
  } else {
    load(Bpf.LD_H_ABS, 0);
    expect(flow.remotePort);
    load(Bpf.LD_H_ABS, 2);
    expect(flow.localPort);
  }
  const drop = program.length + 1;
  return [
    ...program.map((instruction) => instruction(drop)),
    { code: Bpf.RET_K, jt: 0, jf: 0, k: ACCEPT },
    { code: Bpf.RET_K, jt: 0, jf: 0, k: 0 },
  ];
}

/**
 * encodeSocketFilter returns `program` as the kernel reads it (`struct sock_filter[]`), in the
 * byte order `order` (the host's by default). Throws RangeError for a field out of its range.
 */
export function encodeSocketFilter(
  program: readonly SocketFilterInstruction[],
  order: 'LE' | 'BE' = endianness(),
): Buffer {
  const bytes = Buffer.alloc(program.length * INSTRUCTION_BYTES);
  program.forEach(({ code, jt, jf, k }, i) => {
    const at = i * INSTRUCTION_BYTES;
    if (order === 'LE') {
      bytes.writeUInt16LE(code, at);
      bytes.writeUInt32LE(k, at + 4);
    } else {
      bytes.writeUInt16BE(code, at);
      bytes.writeUInt32BE(k, at + 4);
    }
    bytes.writeUInt8(jt, at + 2);
    bytes.writeUInt8(jf, at + 3);
  });
  return bytes;
}

/**
 * flowMatcher returns the program's test in JavaScript: whether a datagram from `source` whose
 * transport header is `transport` belongs to `flow`. Throws like flowFilterProgram.
 */
export function flowMatcher(flow: TransportFlow): (source: string, transport: Uint8Array) => boolean {
  flowFilterProgram(flow); // the same checks of the flow
  const remote = canonical(flow.remoteAddress);
  const { remotePort, localPort } = flow;
  return (source, transport) =>
    transport.length >= 4 &&
    ((transport[0] ?? 0) << 8) + (transport[1] ?? 0) === remotePort &&
    ((transport[2] ?? 0) << 8) + (transport[3] ?? 0) === localPort &&
    source === remote;
}

/** addressWords returns an IP literal as big-endian 32-bit words: one for IPv4, four for IPv6. */
function addressWords(address: string): number[] {
  if (isIPv4(address)) return [Buffer.from(address.split('.').map(Number)).readUInt32BE(0)];
  if (!isIPv6(address.replace(/%.*$/, ''))) throw new TypeError(`not an IP address: ${address}`);
  const bytes = ipv6ToBytes(address);
  return [0, 4, 8, 12].map((at) => bytes.readUInt32BE(at));
}

/** canonical returns an IP literal as the raw-socket addon writes a source (`::1`, no zone). */
function canonical(address: string): string {
  return isIPv4(address) ? address : ipv6FromBytes(ipv6ToBytes(address));
}
