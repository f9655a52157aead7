/**
 * `sockkit send udp://...`: one datagram out, the reply printed. UDP promises nothing, so the
 * exchange is retried and bounded: `--timeout` per attempt (default 1s), `--retries` (default 2).
 * To a broadcast or multicast address, every reply that arrives in time is printed.
 */
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import { formatAddress, formatHostPort, type InetAddress } from '../address.js';
import { listenPacket } from '../datagram/listen-packet.js';
import type { Datagram } from '../datagram/packet-conn.js';
import { request } from '../datagram/request.js';
import { isMulticast } from '../datagram/socket-options.js';
import { fromSystemError, SockkitError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import { parseCount } from '../units.js';
import { tracerFor } from './common.js';
import { addPacketFlags, type PacketFlags, packetOptionsOf } from './packet-flags.js';
import { warn } from './run.js';

/** UDP_DEFAULT_TIMEOUT is how long `send udp://` waits for each reply unless `--timeout` says otherwise. */
export const UDP_DEFAULT_TIMEOUT = 1000;

/** UdpSendOptions are the `send` flags that matter for UDP. */
export interface UdpSendOptions extends PacketFlags {
  /** Per attempt, in milliseconds. */
  timeout: number;
  retries: number;
}

/**
 * sendUdp sends `message` to `address` and writes the reply to stdout. Rejects (exit 1) with
 * `ERR_NO_REPLY` when nothing came back, `ERR_CONNECTION_REFUSED` when the peer answered ICMP port
 * unreachable, `ERR_MESSAGE_TOO_LARGE` for a message no datagram can carry.
 */
export async function sendUdp(
  address: InetAddress,
  message: string,
  options: UdpSendOptions,
  command: Command,
): Promise<void> {
  const packetOptions = packetOptionsOf('send', address, options);
  const trace = tracerFor(command, 'client');
  const url = formatAddress(address);
  const [first] = await resolveHost(address.host).catch((err: unknown) => {
    throw fromSystemError('send', url, err);
  });
  if (options.broadcast || isMulticast(first?.ip ?? '')) {
    // Many hosts may answer, from their own addresses: an unconnected socket hears them all.
    const family = isIP(first?.ip ?? '') === 6 ? 6 : 4;
    const wildcard: InetAddress = { scheme: 'udp', host: family === 4 ? '0.0.0.0' : '::', port: 0 };
    const conn = await listenPacket(wildcard, { ...packetOptions, trace });
    try {
      const peer = { address: first?.ip ?? address.host, port: address.port };
      for (let attempt = 0; attempt <= options.retries; attempt += 1) {
        await conn.send(message, peer);
        const replies = await gather(conn.read.bind(conn), options.timeout);
        if (replies > 0) return;
      }
    } finally {
      await conn.close();
    }
    throw new SockkitError(
      'ERR_NO_REPLY',
      'send',
      url,
      `no reply after ${options.retries + 1} attempt${options.retries === 0 ? '' : 's'} (${options.timeout}ms each)`,
    );
  }
  const reply = await request(address, message, {
    ...packetOptions,
    trace,
    timeout: options.timeout,
    retries: options.retries,
  });
  await write(reply.data);
  if (process.stdout.isTTY && reply.data.at(-1) !== 0x0a) process.stdout.write('\n');
}

/** gather prints every reply that arrives within `timeout`, each announced on stderr, and counts them. */
async function gather(
  read: (timeout: number) => Promise<Datagram | undefined>,
  timeout: number,
): Promise<number> {
  const deadline = Date.now() + timeout;
  let replies = 0;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return replies;
    const reply = await read(left);
    if (!reply) return replies;
    replies += 1;
    warn(`reply from ${formatHostPort(reply.peer.address, reply.peer.port)} (${reply.data.length} bytes)`);
    await write(reply.data);
  }
}

function write(data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(data)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

/**
 * addUdpSendFlags adds `send`'s UDP flags: `--retries` and the broadcast and multicast flags.
 */
export function addUdpSendFlags(command: Command): Command {
  return addPacketFlags(command).addOption(
    new Option('--retries <count>', 'udp: sends after the first when no reply comes (default 2)').argParser(
      (value) => parseCount(value, '--retries', 0, 100),
    ),
  );
}

/**
 * udpSendOptionsOf reads `send`'s flags for UDP: a `--timeout` left at its TCP default becomes 1s
 * per attempt, and `--retries` defaults to 2.
 */
export function udpSendOptionsOf(
  options: PacketFlags & { timeout: number; retries?: number },
  command: Command,
): UdpSendOptions {
  const timeoutGiven = command.getOptionValueSource('timeout') !== 'default';
  return {
    ...options,
    timeout: timeoutGiven ? options.timeout : UDP_DEFAULT_TIMEOUT,
    retries: options.retries ?? 2,
  };
}
