/**
 * The origin connection an HTTP proxy client's requests go over: kept between requests to the
 * same host and port, replaced for another (RFC 9112 §9.3), each opened under the destination
 * rules as every proxy connection is.
 */
import type { Socket } from 'node:net';
import { HandshakeReader } from './handshake-reader.js';
import { connectUpstream, type ProxySession, type Upstream } from './proxy-session.js';

/** Origin is an open connection to an origin, and the reader of its responses. */
export interface Origin {
  readonly key: string;
  readonly socket: Socket;
  readonly reader: HandshakeReader;
  /** Whether it carried an exchange before this one. */
  reused: boolean;
}

/**
 * OriginConnections keeps one client's origin connection between its requests: reused for the
 * next request to the same host and port, replaced for another (RFC 9112 §9.3).
 */
export class OriginConnections {
  readonly #session: ProxySession;
  #current: Origin | undefined;

  constructor(session: ProxySession) {
    this.#session = session;
  }

  /** open returns the kept connection to `host`:`port` if it is still usable, or a new one; see connectUpstream. */
  async open(host: string, port: number): Promise<Origin | Exclude<Upstream, { socket: Socket }>> {
    const key = `${host}\0${port}`;
    const kept = this.#current;
    if (
      kept &&
      kept.key === key &&
      !kept.socket.destroyed &&
      !kept.socket.readableEnded &&
      kept.reader.buffered === 0
    ) {
      kept.reused = true;
      return kept;
    }
    this.drop();
    const upstream = await connectUpstream(host, port, this.#session.options);
    if ('denied' in upstream) return upstream;
    upstream.socket.on('error', () => {});
    const origin = {
      key,
      socket: upstream.socket,
      reader: new HandshakeReader(upstream.socket),
      reused: false,
    };
    this.#current = origin;
    return origin;
  }

  /** drop closes the kept connection, if any, and counts its bytes for the log line. */
  drop(): void {
    const origin = this.#current;
    if (!origin) return;
    this.#current = undefined;
    origin.socket.destroy();
    this.#session.bytesUp += origin.socket.bytesWritten;
    this.#session.bytesDown += origin.socket.bytesRead;
  }
}
