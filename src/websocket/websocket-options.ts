/**
 * The settings of a WebSocket client and server, as the stream layer's DialOptions.ws and
 * ListenOptions.ws carry them. Types only: the transports that take them live in
 * dial-websocket.ts and listen-websocket.ts, above the stream layer this file is imported by.
 */
import type { LimitEvent } from '../security/limit-event.js';

/** KeepaliveOptions tune the pings that tell a live peer from a dead one. */
export interface KeepaliveOptions {
  /** Send a ping after this long, in milliseconds; 0 sends none. */
  readonly pingInterval?: number | undefined;
  /** Drop the connection when a ping has no pong after this long, in milliseconds. Default: pingInterval. */
  readonly pingTimeout?: number | undefined;
}

/** WebSocketClientOptions are a WebSocket client's settings (DialOptions.ws). Every field is optional. */
export interface WebSocketClientOptions extends KeepaliveOptions {
  /** Extra headers for the upgrade request, as name and value pairs (`Authorization`, `Cookie`). */
  readonly headers?: readonly (readonly [string, string])[] | undefined;
  /** Subprotocols to offer (`Sec-WebSocket-Protocol`), in order of preference. */
  readonly subprotocols?: readonly string[] | undefined;
  /** The `Origin` header to send, as a browser would (`http://localhost:8080`). Default none. */
  readonly origin?: string | undefined;
  /** The largest message accepted; a larger one closes the connection with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number | undefined;
  /** Bytes unsent or unread before the writer waits or reading pauses. Default 1 MiB. */
  readonly maxBuffered?: number | undefined;
  /** How long `close` waits for the peer's close frame, in milliseconds. Default 5000. */
  readonly closeTimeout?: number | undefined;
}

/** WebSocketServerOptions are a WebSocket server's settings (ListenOptions.ws). Every field is optional. */
export interface WebSocketServerOptions extends KeepaliveOptions {
  /**
   * Origins whose pages may connect besides the page's own (`https://host[:port]`), or `*` for
   * any page. A request without `Origin` (not from a browser) is accepted. See OriginPolicy.
   */
  readonly allowOrigins?: readonly string[] | undefined;
  /** The largest message accepted; a larger one closes that connection with 1009. Default 16 MiB. */
  readonly maxMessageSize?: number | undefined;
  /** Bytes unsent or unread per connection before the writer waits or reading pauses. Default 1 MiB. */
  readonly maxBuffered?: number | undefined;
  /** Subprotocols the server speaks: the first the client offers, in the client's order, is chosen. Default none. */
  readonly subprotocols?: readonly string[] | undefined;
  /** How long a client has, from connecting, to complete the upgrade request, in milliseconds. Default 10000. */
  readonly upgradeTimeout?: number | undefined;
  /** How long `close` waits for a client's close frame, in milliseconds. Default 5000. */
  readonly closeTimeout?: number | undefined;
  /** Told of each upgrade refused (wrong path, Origin not allowed, not a WebSocket request, too slow), as a `handshake-failed` or `handshake-timeout` LimitEvent. */
  readonly report?: ((event: LimitEvent) => void) | undefined;
}
