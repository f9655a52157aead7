/**
 * TCP socket options, as sockkit takes them (TcpSocketOptions: keepalive, Nagle; and where a
 * client connects from) and as Node's net.connect, tls.connect and net.createServer take them
 * (TcpSettings). Both the plain and the TLS transports build their sockets from these.
 */
import { optionError } from '../errors.js';
import { checkLocalEnd, type LocalEnd } from '../local-end.js';

/**
 * TcpSocketOptions are the TCP options both sides take. Nagle's algorithm is off by default
 * (TCP_NODELAY), unlike Node's own default: sockkit writes what it has as soon as it has it (a
 * typed line, an echo), and Nagle holding a small write until the previous one is acknowledged,
 * against a peer that delays its ACK, costs such exchanges up to 40 ms each on Linux.
 */
export interface TcpSocketOptions {
  /**
   * TCP keepalive (SO_KEEPALIVE): the idle time in ms before the first probe (TCP_KEEPIDLE, whole
   * seconds, 1 s to 32767 s). Node then probes every second and gives the connection up after 10
   * unanswered probes. Off when unset.
   */
  readonly keepAlive?: number | undefined;
  /** TCP_NODELAY: true (the default) sends each write at once; false turns Nagle's algorithm back on. */
  readonly noDelay?: boolean | undefined;
}

/** TcpServerOptions are the TCP options of a listener, applied to every connection it accepts. */
export type TcpServerOptions = TcpSocketOptions;

/** TcpClientOptions are the TCP options of a client socket: where it connects from, and TcpSocketOptions. */
export interface TcpClientOptions extends TcpSocketOptions, LocalEnd {}

/** MAX_KEEPALIVE_IDLE is the longest keepalive idle time Linux takes (TCP_KEEPIDLE, 32767 s), in ms. */
export const MAX_KEEPALIVE_IDLE = 32_767_000;

/**
 * checkTcpOptions throws UsageError (naming the option) for TCP options that cannot work, before
 * any socket exists: a keepalive idle time outside 1 s to 32767 s, or a local end that checkLocalEnd refuses.
 */
export function checkTcpOptions(op: string, options: TcpClientOptions | undefined, url = ''): void {
  const keepAlive = options?.keepAlive;
  if (
    keepAlive !== undefined &&
    !(Number.isFinite(keepAlive) && keepAlive >= 1000 && keepAlive <= MAX_KEEPALIVE_IDLE)
  )
    throw optionError(
      op,
      'keepAlive',
      `${keepAlive}: expected an idle time from 1000 to ${MAX_KEEPALIVE_IDLE} ms`,
      url,
    );
  checkLocalEnd(op, options, url);
}

/** TcpSettings are TCP options as Node's net.connect, tls.connect and net.createServer take them. */
export interface TcpSettings {
  readonly noDelay: boolean;
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}

/** tcpSocketSettings turns TcpSocketOptions into the options Node's net.connect and net.createServer take. */
export function tcpSocketSettings(options: TcpSocketOptions | undefined): TcpSettings {
  const noDelay = options?.noDelay ?? true;
  if (options?.keepAlive === undefined) return { noDelay };
  return { noDelay, keepAlive: true, keepAliveInitialDelay: options.keepAlive };
}

/** tcpClientSettings adds the local address and port of `options` to tcpSocketSettings. */
export function tcpClientSettings(options: TcpClientOptions | undefined): TcpSettings {
  return {
    ...tcpSocketSettings(options),
    ...(options?.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    ...(options?.localPort === undefined ? {} : { localPort: options.localPort }),
  };
}
