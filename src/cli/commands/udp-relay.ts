/**
 * netcat's UDP modes: `connect udp://...` (each stdin chunk or line becomes a datagram to the
 * server, replies go to stdout) and `listen udp://...` (datagrams from peers go to stdout, stdin
 * goes to the last peer heard from), as `nc -u` and `nc -u -l` users expect.
 */
import { type Command, Option } from 'commander';
import {
  type DialPacketOptions,
  dialPacket,
  formatAddress,
  formatBytes,
  type InetAddress,
  listenPackets,
  type PacketConn,
  type PacketOptions,
  type PacketRelayEvent,
  type PacketRelaySummary,
  plural,
  relayPackets,
  rewrap,
  SockkitError,
} from '../../index.js';
import { announceListening, durationDefault, durationOption, tracerFor } from '../options/common.js';
import { addPacketFlags, type PacketFlags, packetOptionsOf, sayDatagramPath } from '../options/packet.js';
import { shutdownSignal, warn } from '../run.js';

/** UdpConnectOptions are the `connect` flags that matter for UDP. */
export interface UdpConnectOptions {
  lines?: boolean;
  /** How long to wait for replies once stdin has ended, in milliseconds. */
  linger: number;
  verbose?: boolean;
}

/** addUdpConnectFlags adds `connect`'s UDP flags: `--lines` and `--linger`. */
export function addUdpConnectFlags(command: Command): Command {
  return command
    .option('--lines', 'udp: send each line of stdin as one datagram, not each chunk read')
    .addOption(
      new Option('--linger <duration>', 'udp: after stdin ends, wait this long for more replies')
        .default(...durationDefault(1000))
        .argParser(durationOption('--linger', 0)),
    );
}

/**
 * connectUdp (the flags are `command`'s; `socket` sets the local end, TTL, family and the tap
 * that sees every datagram) connects a UDP socket to `address` and relays: stdin, cut into
 * datagrams, to the server; each reply to stdout. Once stdin ends it waits `linger` past the last
 * reply, then resolves. Rejects with `connect udp://...: connection refused` when the server's
 * host answers ICMP port unreachable.
 */
export async function connectUdp(
  address: InetAddress,
  command: Command,
  socket: DialPacketOptions = {},
): Promise<void> {
  const options = command.opts<UdpConnectOptions>();
  const conn = await dialPacket(address, { ...socket, trace: tracerFor(command, 'client') });
  sayDatagramPath(options.verbose, [conn.path]);
  const url = formatAddress(address);
  await relayPackets(conn, process.stdin, process.stdout, {
    lines: options.lines,
    linger: options.linger,
    onEvent: warnOf,
  }).catch((err: unknown) => {
    // What the socket reported (an ICMP refusal) is the failure of this command: `connect URL: ...`.
    throw err instanceof SockkitError && err.op === 'receive' ? rewrap(err, 'connect', url) : err;
  });
}

/** UdpListenOptions are the `listen` flags that matter for UDP. */
export interface UdpListenOptions extends PacketFlags {
  keepOpen?: boolean;
  lines?: boolean;
}

/**
 * listenUdp (the flags are `command`'s; `socket` has dual-stack and the tap that sees every datagram) binds `address`, prints
 * `listening on URL`, and relays until SIGINT, SIGTERM or SIGHUP: datagrams to stdout, stdin
 * (cut into datagrams) to the last peer heard from. Without `keepOpen` the first peer is the
 * only one (as `nc -u -l` connects to its first peer): others' datagrams are ignored.
 * Sending waits until a peer has been heard from, since until then there is nobody to send to.
 */
export async function listenUdp(
  address: InetAddress,
  command: Command,
  socket: PacketOptions = {},
): Promise<void> {
  const options = command.opts<UdpListenOptions>();
  const signal = shutdownSignal();
  const trace = tracerFor(command, 'server');
  const conns = await listenPackets(address, {
    ...packetOptionsOf('listen', address, options),
    ...socket,
    signal,
    trace,
  });
  announceListening(conns.map((c) => c.localAddress));
  sayDatagramPath(
    options.verbose,
    conns.map((c) => c.path),
  );
  const summary = await relayPackets(conns, process.stdin, process.stdout, {
    signal,
    lines: options.lines,
    peers: options.keepOpen ? 'latest' : 'first',
    onEvent: warnOf,
  });
  const dropped = droppedIn(summary, conns);
  if (dropped > 0)
    warn(`${plural(dropped, 'datagram')} dropped (not from the first peer, or stdout too slow)`);
}

/** warnOf prints what the relay tells a person: stdout falling behind. */
function warnOf(event: PacketRelayEvent): void {
  if (event.type === 'output-full')
    warn(`stdout is not keeping up; dropping datagrams past ${formatBytes(event.limit)}`);
}

/** droppedIn counts every datagram that did not reach stdout: ignored, past the stdout limit, or the sockets' own drops. */
function droppedIn(summary: PacketRelaySummary, conns: readonly PacketConn[]): number {
  return conns.reduce((sum, c) => sum + c.dropped, summary.ignored + summary.dropped);
}

/** addUdpListenFlags adds `listen`'s UDP flags: `--lines` and the broadcast and multicast flags. */
export function addUdpListenFlags(command: Command): Command {
  return addPacketFlags(command).option(
    '--lines',
    'udp: send each line of stdin as one datagram, not each chunk read',
  );
}
