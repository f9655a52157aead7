/**
 * serve runs a stream service on listeners until a signal asks it to stop, then shuts down
 * gracefully: stop accepting, give open connections a grace period to finish, close the rest.
 */
import type { Socket } from 'node:net';
import type { SocketAddress } from '../address.js';
import { traceStep } from '../internal.js';
import { type LimitEvent, reportingSafely } from '../security/limit-event.js';
import type { TraceStep } from '../trace.js';
import { type Conn, peerLabel } from './conn.js';
import type { Listener } from './listen.js';

/** StreamService handles one accepted connection from start to close. It must not throw. */
export type StreamService<C = Conn> = (conn: C) => void;

/** ServedConn is what `serve` needs of a connection: a Conn, or a WebSocketConn. */
export interface ServedConn {
  readonly socket: Socket;
  readonly remoteAddress: SocketAddress;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly closed: Promise<void>;
  /**
   * close ends the connection. `serve` passes a WebSocket close code and reason at shutdown (1001,
   * going away, RFC 6455 §7.4.1), which a WebSocketConn sends and a byte stream's Conn ignores.
   */
  close(code?: number, reason?: string): unknown;
  [traceStep](step: TraceStep, extra?: { detail?: string }): void;
}

/** ServeOptions tune `serve`. */
export interface ServeOptions {
  /** Aborting it starts the graceful shutdown. */
  readonly signal: AbortSignal;
  /** How long open connections may take to finish after the signal, in milliseconds. Default 5000. */
  readonly grace?: number | undefined;
  /**
   * report is told, as a `service-error` LimitEvent, of each connection the service threw on:
   * that connection is closed, the others are served.
   */
  readonly report?: ((event: LimitEvent) => void) | undefined;
}

/** ServeSummary counts what a server did, for its shutdown report. */
export interface ServeSummary {
  connections: number;
  /** Connections still open when the grace period ended, and closed by force. */
  forciblyClosed: number;
  bytesReceived: number;
  bytesSent: number;
}

/**
 * serve passes every connection accepted on `listeners` to `service` until `options.signal`
 * aborts, and resolves with a summary once every listener and connection is closed. A service
 * that throws on a connection loses that connection only: it is closed, traced and reported.
 */
export async function serve<C extends ServedConn = Conn>(
  listeners: readonly Listener<C>[],
  service: StreamService<C>,
  options: ServeOptions,
): Promise<ServeSummary> {
  const summary: ServeSummary = { connections: 0, forciblyClosed: 0, bytesReceived: 0, bytesSent: 0 };
  // The open connections by socket, so that one 'close' listener serves them all: an idle
  // connection then costs serve a map entry and no closure of its own.
  const open = new Map<Socket, C>();
  const report = reportingSafely(options.report ?? ignore);
  function onClose(this: Socket): void {
    const conn = open.get(this);
    if (!conn) return;
    open.delete(this);
    summary.bytesReceived += conn.bytesReceived;
    summary.bytesSent += conn.bytesSent;
  }
  const onConnection = (conn: C): void => {
    summary.connections += 1;
    open.set(conn.socket, conn);
    conn.socket.on('close', onClose);
    // The last line of defence: a service that throws on one connection loses that connection only.
    try {
      service(conn);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      conn[traceStep]('error', { detail });
      conn.close();
      report({
        limit: 'service-error',
        peer: peerLabel(conn.remoteAddress),
        detail: `closed: the service failed on this connection: ${detail}`,
      });
    }
  };
  for (const listener of listeners) listener.handle(onConnection);
  await aborted(options.signal);
  await Promise.all(listeners.map((l) => l.close()));
  if (open.size > 0) {
    const grace = new Promise<void>((resolve) => setTimeout(resolve, options.grace ?? 5000).unref());
    await Promise.race([grace, Promise.all([...open.values()].map((c) => c.closed))]);
  }
  summary.forciblyClosed = open.size;
  const left = [...open.values()];
  for (const conn of left) conn.close(GOING_AWAY, 'server shutting down');
  await Promise.all(left.map((c) => c.closed));
  return summary;
}

/** GOING_AWAY is the WebSocket close code of a server shutting down (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001;

/** aborted resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function ignore(): void {}
