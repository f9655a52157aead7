/**
 * openEndpoint makes an Endpoint live: dials a socket URL (a WebSocket one too), starts a program,
 * or takes the given stdin and stdout, and hands back its BridgeSide.
 */
import type { Readable, Writable } from 'node:stream';
import { isWebSocket, type SocketAddress } from '../address.js';
import { UsageError } from '../errors.js';
import type { Conn } from '../stream/conn.js';
import { type DialOptions, dial } from '../stream/dial.js';
import { dialWebSocket } from '../websocket/dial-websocket.js';
import type { WebSocketConn } from '../websocket/websocket-conn.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { type ProgramSide, startProgram } from './program.js';
import { type BridgeSide, connSide, streamSide } from './side.js';
import { webSocketSide } from './websocket-side.js';

/** OpenEndpointOptions tune `openEndpoint`: the dial's options, and what programs and `-` need. */
export interface OpenEndpointOptions extends DialOptions {
  /** The connection a program serves, for its environment (see `programEnv`). */
  readonly connection?:
    | { readonly localAddress: SocketAddress; readonly remoteAddress: SocketAddress }
    | undefined;
  /** How long a program may take to exit once its bridge is over, in ms (see `startProgram`). */
  readonly programGrace?: number | undefined;
  /** The streams `-` stands for. Without them, `-` is refused. */
  readonly stdio?: { readonly input: Readable; readonly output: Writable } | undefined;
  /**
   * onProgram is told of each program started, before it is joined: a caller that may exit
   * before a program has ended (a second Ctrl-C) keeps it, to kill it then (see ProgramSide.kill).
   * It must not throw.
   */
  readonly onProgram?: ((program: ProgramSide) => void) | undefined;
}

/** OpenedEndpoint is a live endpoint: its side, and its connection when it is a socket. */
export interface OpenedEndpoint {
  readonly side: BridgeSide;
  readonly conn?: Conn | WebSocketConn | undefined;
}

/**
 * openEndpoint opens `endpoint`. A socket URL is dialled (tcp, tls, unix; ws and wss as
 * `dialWebSocket` does, with `options.ws`, its side a `webSocketSide`; a `udp://` URL is a
 * SchemeError here), a program started, `-` taken from `options.stdio`. Rejects as `dial`,
 * `dialWebSocket` and `startProgram` do, and with UsageError for `-` without `options.stdio`.
 */
export async function openEndpoint(
  endpoint: Endpoint,
  options: OpenEndpointOptions = {},
): Promise<OpenedEndpoint> {
  switch (endpoint.kind) {
    case 'socket': {
      if (isWebSocket(endpoint.address)) {
        const conn = await dialWebSocket(endpoint.address, options);
        return { side: webSocketSide(conn, formatEndpoint(endpoint)), conn };
      }
      const conn = await dial(endpoint.address, options);
      // Fast reads unless a tap must see the bytes (the Conn checks its own tracing).
      return { side: connSide(conn, formatEndpoint(endpoint), options.tap === undefined), conn };
    }
    case 'program': {
      const side = await startProgram(endpoint.program, {
        connection: options.connection,
        grace: options.programGrace,
      });
      options.onProgram?.(side);
      return { side };
    }
    case 'stdio':
      if (!options.stdio) throw new UsageError('relay', '- (stdin and stdout) cannot be used here');
      return { side: streamSide('-', options.stdio.input, options.stdio.output) };
  }
}
