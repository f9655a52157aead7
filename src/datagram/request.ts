/**
 * request: the datagram client's one-shot exchange, send one datagram and wait for the reply,
 * over every address a name resolves to.
 */
import type { SocketAddress } from '../address.js';
import { rewrap, SockkitError } from '../errors.js';
import { type DialPacketOptions, dialResolved, resolvePacketTargets } from './dial-packet.js';
import type { Datagram, RequestOptions } from './packet-conn.js';

/** PacketRequestOptions tune `request`: the socket's options and the retry policy. */
export interface PacketRequestOptions extends DialPacketOptions, RequestOptions {}

/**
 * request sends `data` as one datagram to `address` and resolves with the first reply, retrying as
 * `PacketConn.request` does (default: 1 s timeout, 2 retries). When a name resolves to several
 * addresses, one that refuses (ICMP port unreachable) gives way to the next. Rejects with
 * `ERR_CONNECTION_REFUSED`, `ERR_NO_REPLY`, `ERR_MESSAGE_TOO_LARGE`, `ERR_HOST_NOT_FOUND`,
 * `ERR_PERMISSION_DENIED` (a broadcast address without `broadcast: true`) or `ERR_ABORTED`, all as
 * `send URL: cause`; the time it takes is bounded by `timeout × (retries + 1)` per address tried.
 */
export async function request(
  address: SocketAddress,
  data: Uint8Array | string,
  options: PacketRequestOptions = {},
): Promise<Datagram> {
  const hosts = await resolvePacketTargets(address, options).catch(asSend);
  let refused: SockkitError | undefined;
  for (const host of hosts) {
    const conn = await dialResolved(address, host, options).catch(asSend);
    try {
      return await conn.request(data, options);
    } catch (err) {
      if (!(err instanceof SockkitError) || err.code !== 'ERR_CONNECTION_REFUSED') throw err;
      refused ??= err;
    } finally {
      await conn.close();
    }
  }
  throw refused as SockkitError;
}

/** asSend reports a failure to resolve or connect as what the caller did: `send udp://...: ...`. */
function asSend(err: unknown): never {
  if (err instanceof SockkitError && err.op === 'connect') {
    throw rewrap(err, 'send', err.url);
  }
  throw err;
}
