/**
 * The datagram flags `listen`, `send` and `serve` share: broadcast and multicast. They apply to
 * `udp://` addresses only (their help says `udp:`): given with another scheme they are a usage
 * error (scheme-flags.ts), not silently ignored.
 */
import { type Command, Option } from 'commander';
import {
  checkPacketOptions,
  type DatagramPath,
  GiB,
  type PacketOptions,
  parseCount,
  parseSize,
  type SocketAddress,
} from '../../index.js';

/** PacketFlags are the parsed datagram flags. */
export interface PacketFlags {
  broadcast?: boolean;
  join?: string[];
  multicastTtl?: number;
  multicastLoopback?: boolean;
  multicastInterface?: string;
  receiveBuffer?: number;
  /** -v: say which datagram path the sockets take. */
  verbose?: boolean;
}

/** VERBOSE_HELP is the help of `-v, --verbose` where it only says the datagram path. */
export const VERBOSE_HELP = 'udp: say which datagram path the sockets take (native batch or dgram) and why';

/** addVerboseFlag adds `-v, --verbose` (see VERBOSE_HELP and `sayDatagramPath`) to `command`. */
export function addVerboseFlag(command: Command): Command {
  return command.option('-v, --verbose', VERBOSE_HELP);
}

/**
 * sayDatagramPath prints, when `verbose`, one line on stderr for each distinct path in `paths`:
 * `datagram path: native batch (recvmmsg/sendmmsg, 64 per call)`, or `datagram path: dgram (why)`.
 * Pass each socket's `PacketConn.path`, or `datagramPath(...)` where the sockets are the library's.
 */
export function sayDatagramPath(verbose: boolean | undefined, paths: readonly DatagramPath[]): void {
  if (!verbose) return;
  const lines = paths.map(
    (path) => `datagram path: ${path.native ? 'native batch' : 'dgram'} (${path.reason})`,
  );
  for (const line of new Set(lines)) process.stderr.write(`${line}\n`);
}

/**
 * addPacketFlags adds `--broadcast`, `--join`, `--multicast-ttl`, `--[no-]multicast-loopback`,
 * `--multicast-interface`, `--receive-buffer` and `-v` to `command`.
 */
export function addPacketFlags(command: Command): Command {
  return addVerboseFlag(command)
    .option('--broadcast', 'udp: allow sending to broadcast addresses (SO_BROADCAST)')
    .option(
      '--join <group>',
      'udp: join a multicast group (repeatable)',
      (group: string, groups: string[] = []) => [...groups, group],
    )
    .addOption(
      new Option('--multicast-ttl <hops>', 'udp: hops a multicast datagram may take')
        .default(undefined, '1')
        .argParser((value) => parseCount(value, '--multicast-ttl', 0, 255)),
    )
    .option(
      '--multicast-loopback',
      'udp: deliver our own multicast datagrams to this host too (on by default)',
    )
    .option('--no-multicast-loopback', 'udp: do not deliver our own multicast datagrams to this host')
    .option('--multicast-interface <ip>', 'udp: the local interface address for multicast')
    .addOption(
      new Option(
        '--receive-buffer <size>',
        'udp: the kernel receive buffer (SO_RCVBUF), e.g. 4MiB',
      ).argParser((value) => parseSize(value, '--receive-buffer', 1, GiB)),
    );
}

/**
 * packetOptionsOf turns the parsed flags into PacketOptions for `address`: none for a stream
 * address. Throws UsageError for a value that cannot work (a group that is not multicast).
 */
export function packetOptionsOf(op: string, address: SocketAddress, flags: PacketFlags): PacketOptions {
  // A datagram flag given for a stream address is refused before any command runs (scheme-flags.ts).
  if (address.scheme !== 'udp') return {};
  const options: PacketOptions = {
    broadcast: flags.broadcast,
    join: flags.join,
    multicastTtl: flags.multicastTtl,
    multicastLoopback: flags.multicastLoopback,
    multicastInterface: flags.multicastInterface,
    receiveBufferSize: flags.receiveBuffer,
  };
  checkPacketOptions(op, options);
  return options;
}
