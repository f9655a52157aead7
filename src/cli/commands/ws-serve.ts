/**
 * The WebSocket side of `sockkit echo` and `sockkit serve`: ws:// and wss:// URLs among the
 * others, each message echoed (or discarded), under the same limits and graceful shutdown.
 */
import type { Command } from 'commander';
import {
  type ConnectionGuard,
  echoMessages,
  type LimitEvent,
  type Listener,
  listenWebSocket,
  type ServeSummary,
  type Service,
  type SocketAddress,
  serve,
  type TlsServerOptions,
  type Tracer,
  UsageError,
  type WebSocketAddress,
  type WebSocketConn,
} from '../../index.js';
import { limitReporter } from '../options/limits.js';
import { type WebSocketServerFlags, webSocketServerOptionsOf } from '../options/websocket.js';

/** WebSocketRunFlags are the `echo` and `serve` flags that matter for ws://. */
export interface WebSocketRunFlags extends WebSocketServerFlags {
  ipv6Only?: boolean;
}

/** What every listener of a run shares. */
interface RunContext {
  readonly signal: AbortSignal;
  readonly trace: Tracer | undefined;
  readonly tls: TlsServerOptions | undefined;
  readonly guard: ConnectionGuard;
}

/** The services that have a WebSocket form: each message is a unit, as a datagram is. */
const HANDLERS: Record<string, (conn: WebSocketConn, signal: AbortSignal) => void> = {
  echo: echoMessages,
  discard: (conn, signal) => {
    signal.addEventListener('abort', () => void conn.close(1001, 'server shutting down'), { once: true });
    void (async () => {
      for await (const _ of conn);
    })().catch(() => conn.terminate());
  },
};

/** WebSocketRun binds the ws:// URLs of a run, in their turn, and serves them once all are bound. */
export interface WebSocketRun {
  /** add binds one ws:// or wss:// address and resolves with the addresses bound (the caller announces them). */
  add(address: WebSocketAddress): Promise<readonly SocketAddress[]>;
  /** serve serves every address added until the run's signal, then shuts down within `grace`; undefined when none was added. */
  serve(grace: number, report: (event: LimitEvent) => void): Promise<ServeSummary | undefined>;
}

/**
 * webSocketRun checks the ws:// flags against `addresses` (UsageError for a flag without a ws://
 * URL, or a service with no WebSocket form) and returns the run of the ws:// ones.
 */
export function webSocketRun(
  service: Service,
  addresses: readonly SocketAddress[],
  flags: WebSocketRunFlags,
  command: Command,
  context: RunContext,
): WebSocketRun {
  const ws = webSocketServerOptionsOf(flags, addresses, limitReporter(command));
  const handler = HANDLERS[service.name];
  if (ws && !handler) {
    throw new UsageError(
      'serve',
      `${service.name} has no WebSocket form over ws:// (use ${Object.keys(HANDLERS).join(' or ')})`,
    );
  }
  const listeners: Listener<WebSocketConn>[] = [];
  return {
    async add(address) {
      const listener = await listenWebSocket(address, { ...context, ipv6Only: flags.ipv6Only, ws });
      listeners.push(listener);
      return listener.addresses;
    },
    serve(grace, report) {
      if (listeners.length === 0 || !handler) return Promise.resolve(undefined);
      const { signal } = context;
      return serve(listeners, (conn) => handler(conn, signal), { signal, grace, report });
    },
  };
}
