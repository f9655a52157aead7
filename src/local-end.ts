/**
 * The local end a client socket may be bound to before it connects (`nc -s ADDR -p PORT`), shared
 * by the stream and datagram clients: its options, their check, and the address family it implies.
 */
import { isIP } from 'node:net';
import { optionError } from './errors.js';

/** LocalEnd says where a client socket connects from. Both fields are optional. */
export interface LocalEnd {
  /**
   * The local IP address to connect from (bound before connecting, as `nc -s`): one of this host's
   * addresses. Only addresses of its family are tried. Default: the kernel's choice for the route.
   */
  readonly localAddress?: string | undefined;
  /** The local port to connect from (`nc -p`). Default: any free port. */
  readonly localPort?: number | undefined;
}

/**
 * checkLocalEnd throws UsageError (naming the option) for a `localAddress` that is not an IP
 * address or a `localPort` outside 0-65535, before any socket exists.
 */
export function checkLocalEnd(op: string, end: LocalEnd | undefined, url = ''): void {
  const localAddress = end?.localAddress;
  const localPort = end?.localPort;
  if (localPort !== undefined && !(Number.isInteger(localPort) && localPort >= 0 && localPort <= 65535))
    throw optionError(op, 'localPort', `${localPort}: expected a port from 0 to 65535`, url);
  if (localAddress !== undefined && isIP(localAddress) === 0)
    throw optionError(op, 'localAddress', `${localAddress}: expected an IP address of this host`, url);
}

/**
 * familyToTry is the address family a client resolves names to: `family` when given, else the
 * local address's (a socket bound to an IPv4 address cannot reach an IPv6 one), else both.
 */
export function familyToTry(family: 4 | 6 | undefined, end: LocalEnd | undefined): 4 | 6 | undefined {
  if (family !== undefined || end?.localAddress === undefined) return family;
  const local = isIP(end.localAddress);
  return local === 0 ? undefined : (local as 4 | 6);
}
