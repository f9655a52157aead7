/**
 * netcat's UDP modes: `connect udp://...` (each stdin chunk or line becomes a datagram to the
 * server, replies go to stdout) and `listen udp://...` (datagrams from peers go to stdout, stdin
 * goes to the last peer heard from), as `nc -u` and `nc -u -l` users expect.
 */
import type { Readable } from 'node:stream';
import { type Command, Option } from 'commander';
import { formatAddress, formatHostPort, type InetAddress } from '../address.js';
import { dialPacket } from '../datagram/dial-packet.js';
import { maxDatagramSize } from '../datagram/limits.js';
import { listenPackets } from '../datagram/listen-packet.js';
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import { DatagramSplitter } from '../datagram/splitter.js';
import { SockkitError } from '../errors.js';
import { aborted } from '../stream/serve.js';
import { formatBytes } from '../units.js';
import { announceListening, durationOption, tracerFor } from './common.js';
import { addPacketFlags, type PacketFlags, packetOptionsOf } from './packet-flags.js';
import { shutdownSignal, warn } from './run.js';

/** STDOUT_LIMIT bounds what waits for a slow stdout; datagrams past it are dropped, as a kernel would. */
const STDOUT_LIMIT = 16 * 1024 * 1024;

/** UdpConnectOptions are the `connect` flags that matter for UDP. */
export interface UdpConnectOptions {
  lines?: boolean;
  /** How long to wait for replies once stdin has ended, in milliseconds. */
  linger: number;
}

/** addUdpConnectFlags adds `connect`'s UDP flags: `--lines` and `--linger`. */
export function addUdpConnectFlags(command: Command): Command {
  return command
    .option('--lines', 'udp: send each line of stdin as one datagram (default: each chunk read)')
    .addOption(
      new Option('--linger <duration>', 'udp: after stdin ends, wait this long for more replies')
        .default(1000, '1s')
        .argParser(durationOption('--linger', 0)),
    );
}

/**
 * connectUdp (the flags are `command`'s) connects a UDP socket to `address` and relays: stdin, cut into datagrams, to the
 * server; each reply to stdout. Once stdin ends it waits `linger` past the last reply, then
 * resolves. Rejects with `connect udp://...: connection refused` when the server's host answers
 * ICMP port unreachable.
 */
export async function connectUdp(address: InetAddress, command: Command): Promise<void> {
  const options = command.opts<UdpConnectOptions>();
  const conn = await dialPacket(address, { trace: tracerFor(command, 'client') });
  const url = formatAddress(address);
  const family = conn.remoteAddress?.host.includes('.') ? 4 : 6;
  let idle: NodeJS.Timeout | undefined;
  let inputEnded = false;
  const lingerThenClose = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => void conn.close(), options.linger);
  };
  // stdout closed by its reader (`| head`): the session is over, as it is for nc.
  process.stdout.once('error', () => void conn.close());
  const receiving = (async (): Promise<void> => {
    for (;;) {
      const datagram = await conn.read().catch((err: SockkitError) => {
        throw new SockkitError(err.code, 'connect', url, err.reason, { cause: err.cause ?? err });
      });
      if (!datagram) return;
      writeBounded(datagram.data, conn);
      if (inputEnded) lingerThenClose();
    }
  })();
  const sending = (async (): Promise<void> => {
    await pipeDatagrams(process.stdin, new DatagramSplitter(maxDatagramSize(family), options.lines), (d) =>
      conn.send(d),
    );
    inputEnded = true;
    lingerThenClose();
  })();
  try {
    await Promise.race([receiving, sending.then(() => receiving)]);
  } finally {
    clearTimeout(idle);
    process.stdin.pause();
    await conn.close();
  }
}

/** UdpListenOptions are the `listen` flags that matter for UDP. */
export interface UdpListenOptions extends PacketFlags {
  keepOpen?: boolean;
  lines?: boolean;
}

/**
 * listenUdp (the flags are `command`'s) binds `address`, prints `listening on URL`, and relays until SIGINT, SIGTERM or SIGHUP: datagrams
 * to stdout, stdin (cut into datagrams) to the last peer heard from. Without `keepOpen` the first
 * peer is the only one (as `nc -u -l` connects to its first peer): others' datagrams are ignored.
 * Sending waits until a peer has been heard from, since until then there is nobody to send to.
 */
export async function listenUdp(address: InetAddress, command: Command): Promise<void> {
  const options = command.opts<UdpListenOptions>();
  const signal = shutdownSignal();
  const trace = tracerFor(command, 'server');
  const conns = await listenPackets(address, {
    ...packetOptionsOf('listen', address, options),
    signal,
    trace,
  });
  announceListening(conns.map((c) => c.localAddress));
  let target: { conn: PacketConn; peer: Peer } | undefined;
  let heard: () => void = () => {};
  const firstPeer = new Promise<void>((resolve) => {
    heard = resolve;
  });
  for (const conn of conns) {
    conn.onMessage((data, peer) => {
      if (
        !options.keepOpen &&
        target &&
        !(target.peer.address === peer.address && target.peer.port === peer.port)
      ) {
        conn.trace('note', {
          detail: `ignored datagram from ${formatHostPort(peer.address, peer.port)} (not the first peer; see --keep-open)`,
        });
        conn.dropped += 1;
        return;
      }
      if (!target || options.keepOpen) target = { conn, peer };
      heard();
      writeBounded(data, conn);
    });
  }
  const sending = firstPeer.then(() => {
    const family = target?.peer.address.includes('.') ? 4 : 6;
    return pipeDatagrams(process.stdin, new DatagramSplitter(maxDatagramSize(family), options.lines), (d) => {
      const { conn, peer } = target as { conn: PacketConn; peer: Peer };
      return conn.send(d, peer);
    });
  });
  sending.catch(() => {});
  // stdout closed by its reader (`| head`) ends the session as a signal would.
  const outputClosed = new Promise<void>((resolve) => process.stdout.once('error', () => resolve()));
  await Promise.race([aborted(signal), outputClosed, sending.then(() => aborted(signal))]);
  process.stdin.pause();
  await Promise.all(conns.map((c) => c.close()));
  const dropped = conns.reduce((sum, c) => sum + c.dropped, 0);
  if (dropped > 0)
    warn(
      `${dropped} datagram${dropped === 1 ? '' : 's'} dropped (not from the first peer, or stdout too slow)`,
    );
}

/** pipeDatagrams reads `input` to its end, cutting it into datagrams and sending each in turn. */
async function pipeDatagrams(
  input: Readable,
  splitter: DatagramSplitter,
  send: (datagram: Buffer) => Promise<void>,
): Promise<void> {
  for await (const chunk of input) {
    for (const datagram of splitter.push(chunk as Buffer)) await send(datagram);
  }
  for (const datagram of splitter.end()) await send(datagram);
}

/**
 * writeBounded writes a datagram to stdout unless too much already waits for a slow reader: UDP
 * cannot be paused, so past STDOUT_LIMIT the datagram is dropped and counted instead of buffered.
 */
function writeBounded(data: Buffer, conn: PacketConn): void {
  if (process.stdout.writableLength > STDOUT_LIMIT) {
    if (conn.dropped === 0)
      warn(`stdout is not keeping up; dropping datagrams past ${formatBytes(STDOUT_LIMIT)}`);
    conn.dropped += 1;
    return;
  }
  process.stdout.write(data);
}

/** addUdpListenFlags adds `listen`'s UDP flags: `--lines` and the broadcast and multicast flags. */
export function addUdpListenFlags(command: Command): Command {
  return addPacketFlags(command).option(
    '--lines',
    'udp: send each line of stdin as one datagram (default: each chunk read)',
  );
}
