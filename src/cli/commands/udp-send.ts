/**
 * `sockkit send udp://...`: one datagram out, the reply printed. UDP promises nothing, so the
 * exchange is retried and bounded: `--timeout` per attempt (default 1s), `--retries` (default 2).
 * To a broadcast or multicast address, every reply that arrives in time is printed.
 */
import { type Command, Option } from 'commander';
import {
  collectReplies,
  type DialPacketOptions,
  datagramPath,
  familyToTry,
  formatAddress,
  formatHostPort,
  type InetAddress,
  isMulticast,
  parseCount,
  plural,
  request,
  resolveHost,
  rewrap,
} from '../../index.js';
import { tracerFor } from '../options/common.js';
import { addPacketFlags, type PacketFlags, packetOptionsOf, sayDatagramPath } from '../options/packet.js';
import { warn } from '../run.js';

/** UDP_DEFAULT_TIMEOUT is how long `send udp://` waits for each reply unless `--timeout` says otherwise. */
export const UDP_DEFAULT_TIMEOUT = 1000;

/** UDP_DEFAULT_RETRIES is how many times `send udp://` sends again without `--retries`. */
export const UDP_DEFAULT_RETRIES = 2;

/** UdpSendOptions are the `send` flags that matter for UDP. */
export interface UdpSendOptions extends PacketFlags {
  /** Per attempt, in milliseconds. */
  timeout: number;
  retries: number;
}

/**
 * sendUdp sends `message` to `address` (with `socket`'s local end, TTL and family) and writes the reply to stdout. Rejects (exit 1) with
 * `ERR_NO_REPLY` when nothing came back, `ERR_CONNECTION_REFUSED` when the peer answered ICMP port
 * unreachable, `ERR_MESSAGE_TOO_LARGE` for a message no datagram can carry.
 */
export async function sendUdp(
  address: InetAddress,
  message: string,
  options: UdpSendOptions,
  command: Command,
  socket: DialPacketOptions = {},
): Promise<void> {
  const packetOptions = { ...packetOptionsOf('send', address, options), ...socket };
  const trace = tracerFor(command, 'client');
  sayDatagramPath(options.verbose, [datagramPath(process.env, { traced: trace !== undefined })]);
  const url = formatAddress(address);
  const [first] = await resolveHost(address.host, familyToTry(socket.family, socket)).catch(
    (err: unknown) => {
      throw rewrap(err, 'send', url);
    },
  );
  if (options.broadcast || isMulticast(first?.ip ?? '')) {
    // Many hosts may answer, each from its own address: print every reply, each announced.
    const replies = collectReplies(address, message, {
      ...packetOptions,
      trace,
      timeout: options.timeout,
      retries: options.retries,
    });
    for await (const reply of replies) {
      warn(
        `reply from ${formatHostPort(reply.peer.address, reply.peer.port)} (${plural(reply.data.length, 'byte')})`,
      );
      await write(reply.data);
    }
    return;
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
    new Option('--retries <count>', 'udp: sends after the first when no reply comes')
      .default(undefined, String(UDP_DEFAULT_RETRIES))
      .argParser((value) => parseCount(value, '--retries', 0, 100)),
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
    retries: options.retries ?? UDP_DEFAULT_RETRIES,
  };
}
