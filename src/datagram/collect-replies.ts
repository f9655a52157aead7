/**
 * collectReplies: one datagram to a broadcast or multicast address, and every reply that comes
 * back, from whichever hosts answer.
 */
import { formatAddress, type SocketAddress } from '../address.js';
import { AbortError, NoReplyError, rewrap } from '../errors.js';
import { traceStep } from '../internal.js';
import { checkLocalEnd } from '../local-end.js';
import { resolveHost } from '../resolve.js';
import { formatDuration, plural } from '../units.js';
import type { DialPacketOptions } from './dial-packet.js';
import { listenPacket } from './listen-packet.js';
import type { Datagram } from './packet-conn.js';
import { requireUdp } from './socket-options.js';

/** CollectRepliesOptions tune `collectReplies`: the socket's options and the retry policy. */
export interface CollectRepliesOptions extends Omit<DialPacketOptions, 'family'> {
  /** How long to gather replies after each send, in milliseconds. Default 1000. */
  readonly timeout?: number | undefined;
  /** How many times to send again when no reply came at all. Default 2 (three sends in all). */
  readonly retries?: number | undefined;
}

/**
 * collectReplies sends `data` as one datagram to `address` (a broadcast or multicast address,
 * typically: many hosts may answer, each from its own address) and yields every reply that
 * arrives within `timeout`, as it arrives. When no reply came, it sends again, up to `retries`
 * times. The socket is not connected (a connected one would hear only the address it sent to),
 * and is bound to `localAddress` and `localPort` when given, else to the wildcard address of the
 * target's family and any free port; it is closed when the iteration
 * ends, however it ends. Its time is bounded by `timeout × (retries + 1)`, and its memory by the
 * socket's `queueLimit` (replies past it are dropped).
 *
 * Throws, as `send URL: cause`: NoReplyError when every attempt went unanswered, AbortError when
 * the signal aborted before any reply, HostNotFoundError, PermissionDeniedError (a broadcast
 * address without `broadcast: true`), MessageTooLargeError; RangeError for a negative `retries`.
 */
export async function* collectReplies(
  address: SocketAddress,
  data: Uint8Array | string,
  options: CollectRepliesOptions = {},
): AsyncGenerator<Datagram, void, undefined> {
  const timeout = options.timeout ?? 1000;
  const retries = options.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0)
    throw new RangeError(`retries must be 0 or more: ${retries}`);
  requireUdp('send', address);
  const url = formatAddress(address);
  checkLocalEnd('send', options, url);
  const [target] = await resolveHost(address.host).catch((err: unknown) => {
    throw rewrap(err, 'send', url);
  });
  if (!target) throw new NoReplyError('send', url, 'no address to send to');
  const wildcard = target.family === 4 ? '0.0.0.0' : '::';
  const local = {
    scheme: 'udp',
    host: options.localAddress ?? wildcard,
    port: options.localPort ?? 0,
  } as const;
  const conn = await listenPacket(local, options).catch((err: unknown) => {
    throw rewrap(err, 'send', url);
  });
  try {
    const peer = { address: target.ip, port: address.port };
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0)
        conn[traceStep]('note', {
          detail: `no reply within ${formatDuration(timeout)}; retry ${attempt} of ${retries}`,
        });
      await conn.send(data, peer);
      let replies = 0;
      const deadline = Date.now() + timeout;
      for (let left = timeout; left > 0; left = deadline - Date.now()) {
        const reply = await conn.read(left, options.signal).catch((err: unknown) => {
          throw rewrap(err, 'send', url);
        });
        if (!reply) break;
        replies += 1;
        yield reply;
      }
      if (replies > 0) return;
      if (options.signal?.aborted) throw new AbortError('send', url);
    }
  } finally {
    await conn.close();
  }
  const attempts = retries + 1;
  throw new NoReplyError(
    'send',
    url,
    `no reply after ${plural(attempts, 'attempt')} (${formatDuration(timeout)} each)`,
  );
}
