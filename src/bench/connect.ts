/**
 * How the bench opens its stream sockets: resolved once, then plain `net`/`tls` connects, so that
 * opening thousands of connections (or one per message in reconnect mode) costs only the connect.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { formatAddress, type SocketAddress, unixSocketPath } from '../address.js';
import { fromSystemError, SockkitError, TimeoutError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import type { LoadPlan } from './load.js';

/** StreamTarget is where stream connections go: an IP and port, or a socket path. */
export type StreamTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/** resolveTarget turns a tcp, tls or unix address into a target, resolving a name once (its first address). */
export async function resolveTarget(address: SocketAddress): Promise<StreamTarget> {
  if (address.scheme === 'unix') return { path: unixSocketPath(address) };
  try {
    const [first] = await resolveHost(address.host);
    if (!first) throw Object.assign(new Error('host not found'), { code: 'ENOTFOUND' });
    return { host: first.ip, port: address.port };
  } catch (err) {
    throw fromSystemError('connect', formatAddress(address), err);
  }
}

/**
 * OnRead receives `length` bytes read into a buffer that is reused for the next read: the caller
 * must be done with them when it returns.
 */
export type OnRead = (buffer: Buffer, length: number) => void;

/**
 * openStream starts connecting a socket to `target` (TLS for tls:// addresses), with Nagle off.
 * With `onRead` and a `readBuffer` (tcp and unix only), reads land in that one buffer and skip the
 * stream machinery: no allocation per read, and one buffer can serve every connection of a thread.
 */
export function openStream(
  target: StreamTarget,
  plan: LoadPlan,
  onRead?: OnRead,
  readBuffer?: Buffer,
): Socket {
  if (plan.address.scheme === 'tls') {
    const host = 'host' in target ? target.host : '';
    return tlsConnect({
      ...target,
      servername: plan.address.host === host || host.includes(':') ? undefined : plan.address.host,
      rejectUnauthorized: !plan.insecure,
      ...(plan.ca ? { ca: plan.ca } : {}),
    }).setNoDelay(true);
  }
  if (onRead && readBuffer) {
    const callback = (length: number, buffer: Uint8Array): boolean => {
      onRead(buffer as Buffer, length);
      return true;
    };
    return netConnect({ ...target, noDelay: true, onread: { buffer: readBuffer, callback } });
  }
  return netConnect({ ...target, noDelay: true });
}

/** connectEventOf is the event that says a socket from `openStream` is ready for data. */
export function connectEventOf(plan: LoadPlan): string {
  return plan.address.scheme === 'tls' ? 'secureConnect' : 'connect';
}

/**
 * connected resolves once `socket` is ready for data, and rejects with a SockkitError naming the
 * address (`connect tcp://127.0.0.1:9: connection refused`) on failure or after `plan.connectTimeout`,
 * destroying the socket. Listeners the caller put on the socket are left as they were.
 */
export function connected(socket: Socket, plan: LoadPlan): Promise<void> {
  const url = formatAddress(plan.address);
  const event = connectEventOf(plan);
  return new Promise((resolve, reject) => {
    // Only this function's own listeners come off: the caller's 'error' listener must stay, or
    // the socket's first reset after connecting is an unhandled 'error' that ends the process.
    const onError = (err: Error): void => fail(connectError(url, err));
    const onConnect = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    };
    const fail = (err: SockkitError): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(event, onConnect);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new TimeoutError('connect', url)), plan.connectTimeout);
    socket.once('error', onError);
    socket.once(event, onConnect);
  });
}

/** connectError names a failed connect; certificate failures become ERR_TLS with a cause people can act on. */
export function connectError(url: string, err: NodeJS.ErrnoException): SockkitError {
  if (typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/.test(err.code)) {
    const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code)
      ? ' (--insecure trusts any certificate)'
      : '';
    return new SockkitError('ERR_TLS', 'connect', url, `TLS: ${err.message}${hint}`, { cause: err });
  }
  return fromSystemError('connect', url, err);
}
