/**
 * The datagram flags `listen`, `send` and `serve` share: broadcast and multicast. They apply to
 * `udp://` addresses only; given with another scheme they are a usage error, not silently ignored.
 */
import { type Command, Option } from 'commander';
import {
  checkPacketOptions,
  GiB,
  type PacketOptions,
  parseCount,
  parseSize,
  type SocketAddress,
  UsageError,
} from '../../index.js';

/** PacketFlags are the parsed datagram flags. */
export interface PacketFlags {
  broadcast?: boolean;
  join?: string[];
  multicastTtl?: number;
  multicastLoopback?: boolean;
  multicastInterface?: string;
  receiveBuffer?: number;
}

/**
 * addPacketFlags adds `--broadcast`, `--join`, `--multicast-ttl`, `--[no-]multicast-loopback`,
 * `--multicast-interface` and `--receive-buffer` to `command`.
 */
export function addPacketFlags(command: Command): Command {
  return command
    .option('--broadcast', 'udp: allow sending to broadcast addresses (SO_BROADCAST)')
    .option(
      '--join <group>',
      'udp: join a multicast group (repeatable)',
      (group: string, groups: string[] = []) => [...groups, group],
    )
    .addOption(
      new Option('--multicast-ttl <hops>', 'udp: hops a multicast datagram may take (default 1)').argParser(
        (value) => parseCount(value, '--multicast-ttl', 0, 255),
      ),
    )
    .option('--multicast-loopback', 'udp: deliver our own multicast datagrams to this host too (default)')
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
 * packetOptionsOf turns the parsed flags into PacketOptions for `address`. Throws UsageError when a
 * datagram flag is given for a stream address (`--join` on `tcp://...`).
 */
export function packetOptionsOf(op: string, address: SocketAddress, flags: PacketFlags): PacketOptions {
  const given = [
    flags.broadcast ? '--broadcast' : '',
    flags.join?.length ? '--join' : '',
    flags.multicastTtl !== undefined ? '--multicast-ttl' : '',
    flags.multicastLoopback !== undefined ? '--multicast-loopback' : '',
    flags.multicastInterface !== undefined ? '--multicast-interface' : '',
    flags.receiveBuffer !== undefined ? '--receive-buffer' : '',
  ].filter(Boolean);
  if (address.scheme !== 'udp') {
    if (given.length > 0) throw new UsageError(op, `${given.join(', ')}: only for udp:// addresses`);
    return {};
  }
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
