import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv6ToBytes } from '../../src/raw/ip-address.js';
import {
  Bpf,
  encodeSocketFilter,
  flowFilterProgram,
  flowMatcher,
  SKF_NET_OFF,
  type SocketFilterInstruction,
  type TransportFlow,
} from '../../src/raw/socket-filter.js';

/** hex reads bytes written as hex digits, each line's `//` comment left out. */
const hex = (text: string): Buffer => Buffer.from(text.replace(/\/\/.*$/gm, '').replace(/\s+/g, ''), 'hex');

// Written by hand from linux/filter.h's opcodes (`struct sock_filter`: u16 code, u8 jt, u8 jf,
// u32 k), little-endian as on x86 and arm64. Each failed test jumps to the last instruction.
const IPV4_FLOW_LE = hex(`
  2000 00 00 0c00f0ff   // ld  [net + 12]           source address
  1500 00 06 0100007f   // jeq #127.0.0.1, else drop
  b100 00 00 0000f0ff   // ldx 4 * ([net] & 0xf)    the IPv4 header's length
  4800 00 00 0000f0ff   // ldh [x + net]            source port
  1500 00 03 50000000   // jeq #80, else drop
  4800 00 00 0200f0ff   // ldh [x + net + 2]        destination port
  1500 00 01 409c0000   // jeq #40000, else drop
  0600 00 00 ffffffff   // ret #whole datagram
  0600 00 00 00000000   // ret #0: drop
`);

// The same in big-endian, for the IPv6 flow from 2001:db8::7 port 443 to port 60000.
const IPV6_FLOW_BE = hex(`
  0020 00 00 fff00008   // ld  [net + 8]            source address, first word
  0015 00 0b 20010db8   // jeq #0x20010db8, else drop
  0020 00 00 fff0000c   // ld  [net + 12]
  0015 00 09 00000000   // jeq #0
  0020 00 00 fff00010   // ld  [net + 16]
  0015 00 07 00000000   // jeq #0
  0020 00 00 fff00014   // ld  [net + 20]
  0015 00 05 00000007   // jeq #7
  0028 00 00 00000000   // ldh [0]                  source port: offset 0 is the transport header
  0015 00 03 000001bb   // jeq #443
  0028 00 00 00000002   // ldh [2]                  destination port
  0015 00 01 0000ea60   // jeq #60000
  0006 00 00 ffffffff   // ret #whole datagram
  0006 00 00 00000000   // ret #0: drop
`);

const v4Flow: TransportFlow = { remoteAddress: '127.0.0.1', remotePort: 80, localPort: 40000 };
const v6Flow: TransportFlow = { remoteAddress: '2001:db8::7', remotePort: 443, localPort: 60000 };

test('the IPv4 flow program checks the source address, then both ports after the IHL', () => {
  assert.deepEqual(encodeSocketFilter(flowFilterProgram(v4Flow), 'LE'), IPV4_FLOW_LE);
});

test('the IPv6 flow program checks the four words of the source address, then the ports at offset 0', () => {
  // A zone names the link, not the address: it does not change the program.
  assert.deepEqual(
    encodeSocketFilter(flowFilterProgram({ ...v6Flow, remoteAddress: '2001:db8::7%eth0' }), 'BE'),
    IPV6_FLOW_BE,
  );
});

test('an instruction is encoded in the byte order asked for', () => {
  const program: SocketFilterInstruction[] = [{ code: Bpf.RET_K, jt: 1, jf: 2, k: 0x01020304 }];
  assert.deepEqual(encodeSocketFilter(program, 'LE'), hex('0600 01 02 04030201'));
  assert.deepEqual(encodeSocketFilter(program, 'BE'), hex('0006 01 02 01020304'));
});

test('a flow with a port out of range or an address that is no IP literal is refused', () => {
  assert.throws(() => flowFilterProgram({ ...v4Flow, remotePort: 65_536 }), RangeError);
  assert.throws(() => flowFilterProgram({ ...v4Flow, localPort: -1 }), /localPort must be 0 to 65535/);
  assert.throws(() => flowFilterProgram({ ...v4Flow, remoteAddress: 'localhost' }), TypeError);
  assert.throws(() => flowMatcher({ ...v4Flow, remoteAddress: '127.0.0.256' }), TypeError);
});

/**
 * Datagram is what the kernel shows a raw socket's filter: the network header (SKF_NET_OFF) and
 * the data it is handed from offset 0: the IPv4 header on, or the transport header for IPv6.
 */
interface Datagram {
  readonly network: Buffer;
  readonly data: Buffer;
}

/** run interprets the instructions flowFilterProgram emits, as the kernel does (a load past the end drops). */
function run(program: readonly SocketFilterInstruction[], datagram: Datagram): number {
  let a = 0;
  let x = 0;
  const read = (offset: number, size: number): number | undefined => {
    const [bytes, at] = offset < 0 ? [datagram.network, offset - SKF_NET_OFF] : [datagram.data, offset];
    if (at < 0 || at + size > bytes.length) return undefined;
    return size === 4 ? bytes.readUInt32BE(at) : size === 2 ? bytes.readUInt16BE(at) : bytes.readUInt8(at);
  };
  for (let pc = 0; pc < program.length; pc += 1) {
    const { code, jt, jf, k } = program[pc] as SocketFilterInstruction;
    const signed = k | 0;
    let loaded: number | undefined;
    switch (code) {
      case Bpf.LD_W_ABS:
        loaded = read(signed, 4);
        break;
      case Bpf.LD_H_ABS:
        loaded = read(signed, 2);
        break;
      case Bpf.LD_H_IND:
        loaded = read(x + signed, 2);
        break;
      case Bpf.LDX_B_MSH: {
        const byte = read(signed, 1);
        if (byte === undefined) return 0;
        x = (byte & 0xf) * 4;
        continue;
      }
      case Bpf.JEQ_K:
        pc += a === k ? jt : jf;
        continue;
      case Bpf.RET_K:
        return k;
      default:
        throw new Error(`opcode ${code} is not interpreted`);
    }
    if (loaded === undefined) return 0;
    a = loaded >>> 0;
  }
  throw new Error('the program ran off its end');
}

function segment(sourcePort: number, destinationPort: number): Buffer {
  const bytes = Buffer.alloc(20);
  bytes.writeUInt16BE(sourcePort, 0);
  bytes.writeUInt16BE(destinationPort, 2);
  return bytes;
}

function ipv4(source: string, transport: Buffer, optionWords = 0): Datagram {
  const header = Buffer.alloc(20 + 4 * optionWords);
  header[0] = 0x45 + optionWords;
  Buffer.from(source.split('.').map(Number)).copy(header, 12);
  const packet = Buffer.concat([header, transport]);
  return { network: packet, data: packet };
}

function ipv6(source: Buffer, transport: Buffer): Datagram {
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  source.copy(header, 8);
  return { network: Buffer.concat([header, transport]), data: transport };
}

test('the IPv4 program passes the flow, with or without IP options, and drops every other segment', () => {
  const program = flowFilterProgram(v4Flow);
  const cases: Array<[string, Datagram, boolean]> = [
    ['the answer', ipv4('127.0.0.1', segment(80, 40000)), true],
    ['the answer after 8 bytes of IP options', ipv4('127.0.0.1', segment(80, 40000), 2), true],
    ['another source', ipv4('127.0.0.2', segment(80, 40000)), false],
    ['another source port', ipv4('127.0.0.1', segment(81, 40000)), false],
    ['another destination port', ipv4('127.0.0.1', segment(80, 40001)), false],
    ['the probe itself (ports the other way)', ipv4('127.0.0.1', segment(40000, 80)), false],
    ['a datagram cut short', ipv4('127.0.0.1', Buffer.alloc(2)), false],
  ];
  // One word of IP options that holds the flow's ports: only a read that ignores the IHL sees them.
  const decoy = ipv4('127.0.0.1', segment(1, 2), 1);
  decoy.network.writeUInt16BE(80, 20);
  decoy.network.writeUInt16BE(40000, 22);
  cases.push(['ports that only an IHL-blind read would see', decoy, false]);
  for (const [name, datagram, passes] of cases) {
    assert.equal(run(program, datagram) !== 0, passes, name);
  }
});

test('the IPv6 program passes the flow and drops other sources and ports', () => {
  const program = flowFilterProgram(v6Flow);
  const target = ipv6ToBytes('2001:db8::7');
  const other = ipv6ToBytes('2001:db8::8');
  assert.equal(run(program, ipv6(target, segment(443, 60000))), 0xffff_ffff);
  assert.equal(run(program, ipv6(other, segment(443, 60000))), 0);
  assert.equal(run(program, ipv6(target, segment(443, 60001))), 0);
  assert.equal(run(program, ipv6(target, segment(60000, 443))), 0);
  assert.equal(run(program, ipv6(target, Buffer.alloc(3))), 0);
});

test('flowMatcher agrees with the program on every mix of address and ports', () => {
  for (const flow of [v4Flow, v6Flow]) {
    const program = flowFilterProgram(flow);
    const matches = flowMatcher(flow);
    const six = flow === v6Flow;
    const sources = six ? ['2001:db8::7', '2001:db8::8'] : ['127.0.0.1', '127.0.0.2'];
    for (const source of sources)
      for (const sourcePort of [flow.remotePort, flow.remotePort + 1, flow.localPort])
        for (const destinationPort of [flow.localPort, flow.localPort + 1, flow.remotePort]) {
          const transport = segment(sourcePort, destinationPort);
          const datagram = six ? ipv6(ipv6ToBytes(source), transport) : ipv4(source, transport);
          const name = `${source} ${sourcePort} -> ${destinationPort}`;
          assert.equal(matches(source, transport), run(program, datagram) !== 0, name);
        }
    assert.equal(matches(sources[0] as string, Buffer.alloc(3)), false, 'a segment cut short');
  }
});

test('flowMatcher takes the address in any spelling and compares it as the addon writes sources', () => {
  const matches = flowMatcher({ remoteAddress: '0:0:0:0:0:0:0:1', remotePort: 1, localPort: 2 });
  assert.equal(matches('::1', segment(1, 2)), true);
});
