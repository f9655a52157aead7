/**
 * Lifecycle events for every socket, in the socket workflow's own vocabulary: created, bound,
 * listening, accepted (or connecting, connected), recv, sent, shutdown write, closed, error.
 * The library only emits them, and only when a Tracer is given, so tracing costs nothing when off.
 * `--trace` in the CLI narrates them on stderr, one line per step.
 */

/** TraceStep names one step of a socket's life. */
export type TraceStep =
  | 'created'
  | 'bound'
  | 'listening'
  | 'connecting'
  | 'connected'
  | 'accepted'
  | 'recv'
  | 'sent'
  | 'shutdown-write'
  | 'peer-shutdown-write'
  | 'closed'
  | 'error'
  | 'note';

/**
 * SocketKind names what a traced socket is: a transport and an IP version (`tcp4`, `udp6`,
 * `tls4`, `icmp6`), a raw socket carrying TCP or UDP (`tcp4 raw`), or a Unix socket.
 */
export type SocketKind =
  | `${'tcp' | 'tls' | 'udp' | 'icmp'}${4 | 6}`
  | `${'tcp' | 'udp'}${4 | 6} raw`
  | 'unix';

/** TraceEvent is one step of one socket's life. */
export interface TraceEvent {
  readonly step: TraceStep;
  /** A number that tells sockets apart within one process. */
  readonly socketId: number;
  readonly kind: SocketKind;
  /** The local address for created/bound/listening, the peer's for the others (`127.0.0.1:53122`). */
  readonly address?: string;
  /** Byte count for recv and sent. */
  readonly bytes?: number;
  /**
   * The bytes themselves, for recv and sent: what a learner hovers over in `demo --web`. It is the
   * buffer the socket read or was given, not a copy, so a tracer that keeps it must copy it.
   */
  readonly data?: Uint8Array;
  /** Free text: the backlog, an error's message, a TLS handshake's parameters. */
  readonly detail?: string;
}

/** Tracer receives lifecycle events. It must not throw. */
export type Tracer = (event: TraceEvent) => void;

let lastSocketId = 0;

/** nextSocketId numbers a new socket for its trace events. */
export function nextSocketId(): number {
  lastSocketId += 1;
  return lastSocketId;
}

/** narrate turns an event into one line of prose, such as `#3 recv 12 bytes from 127.0.0.1:53122`. */
export function narrate(event: TraceEvent): string {
  const at = event.address ?? '';
  const what = ((): string => {
    switch (event.step) {
      case 'created':
        return `socket ${event.kind} created`;
      case 'bound':
        return `bound to ${at}`;
      case 'listening':
        return `listening${event.detail ? ` (${event.detail})` : ''}`;
      case 'connecting':
        return `connecting to ${at}`;
      case 'connected':
        return `connected to ${at}${event.detail ? ` from ${event.detail}` : ''}`;
      case 'accepted':
        return `accepted ${at}`;
      case 'recv':
        return `recv ${event.bytes} bytes${at ? ` from ${at}` : ''}`;
      case 'sent':
        return `sent ${event.bytes} bytes${at ? ` to ${at}` : ''}`;
      case 'shutdown-write':
        return 'shutdown write (FIN sent)';
      case 'peer-shutdown-write':
        return 'peer shut down write (EOF)';
      case 'closed':
        return 'closed';
      case 'error':
        return `error: ${event.detail ?? 'unknown'}`;
      case 'note':
        return event.detail ?? '';
    }
  })();
  return `#${event.socketId} ${what}`;
}

/** narrator returns a Tracer that writes each event as one line, prefixed by `label`, to `write`. */
export function narrator(label: string, write: (line: string) => void): Tracer {
  const prefix = label ? `[${label}] ` : '';
  return (event) => write(`${prefix}${narrate(event)}\n`);
}
