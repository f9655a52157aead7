/**
 * Taps: how a connection or a datagram socket shows its bytes to an observer (a capture file, a
 * hex dump) as they pass, both ways. A socket without a tap does no work for it.
 */
import type { Socket } from 'node:net';
import type { SocketKind } from '../trace.js';
import type { PacketEndpoint } from './ip-packet.js';

/** TapDirection says which way bytes went: `in` from the peer to this side, `out` from this side to the peer. */
export type TapDirection = 'in' | 'out';

/**
 * StreamTap observes one stream connection (TCP, TLS, Unix). Its methods must not throw, and
 * must copy a chunk they keep: it is the buffer the socket read or was given.
 *
 * It sees what passes through the Conn's `write`, `send`, `onData` and async iteration (for TLS,
 * the plaintext); bytes a caller moves through `conn.socket` itself are not seen.
 */
export interface StreamTap {
  /** data is told of each chunk received (`in`) or handed to the socket (`out`), in order. */
  data(direction: TapDirection, chunk: Uint8Array): void;
  /** end is told when a direction has ended: the peer's FIN (`in`), or ours once sent (`out`). */
  end(direction: TapDirection): void;
  /** close is told once, when the connection is closed; `failed` when it ended in an error (a reset). */
  close(failed: boolean): void;
}

/** StreamTapInfo describes the connection a StreamTap is asked for. */
export interface StreamTapInfo {
  /** `tcp4`, `tcp6`, `tls4`, `tls6` or `unix`. */
  readonly kind: SocketKind;
  /** `client` for a connection this side dialed, `server` for one it accepted. */
  readonly role: 'client' | 'server';
  /** The socket id the connection's trace events carry. */
  readonly socketId: number;
  /** The URL the connection was made to (a client) or accepted on (a server): `unix:/tmp/x.sock`. */
  readonly url: string;
  /** This side's IP address and port; undefined for a Unix socket. */
  readonly local: PacketEndpoint | undefined;
  /** The peer's IP address and port; undefined for a Unix socket. */
  readonly remote: PacketEndpoint | undefined;
}

/** StreamTapFactory returns the tap for a new connection, or undefined to leave it untapped. */
export type StreamTapFactory = (info: StreamTapInfo) => StreamTap | undefined;

/** PacketTap observes one datagram socket. Its methods must not throw, and must copy what they keep. */
export interface PacketTap {
  /** datagram is told of each datagram received from `peer` (`in`) or sent to it (`out`). */
  datagram(direction: TapDirection, data: Uint8Array, peer: PacketEndpoint): void;
  /** close is told once, when the socket is closed. */
  close(): void;
}

/** PacketTapInfo describes the datagram socket a PacketTap is asked for. */
export interface PacketTapInfo {
  /** `udp4` or `udp6`. */
  readonly kind: SocketKind;
  readonly socketId: number;
  /** The bound address and port (a wildcard such as `0.0.0.0` when bound to every interface). */
  readonly local: PacketEndpoint;
}

/** PacketTapFactory returns the tap for a new datagram socket, or undefined to leave it untapped. */
export type PacketTapFactory = (info: PacketTapInfo) => PacketTap | undefined;

/**
 * openStreamTap asks `factory` for the tap of the connection on `socket`, and tells that tap of
 * the socket's end of input, end of output and close. Library-internal: Conn calls it, and
 * reports the data itself. A tap that throws is dropped (see guardStreamTap), never the connection.
 */
export function openStreamTap(
  factory: StreamTapFactory,
  socket: Socket,
  info: Omit<StreamTapInfo, 'local' | 'remote'>,
): StreamTap | undefined {
  const ip = info.kind !== 'unix';
  const made = factory({
    ...info,
    local: ip ? endpointOf(socket.localAddress, socket.localPort) : undefined,
    remote: ip ? endpointOf(socket.remoteAddress, socket.remotePort) : undefined,
  });
  if (!made) return undefined;
  const tap = guardStreamTap(made);
  socket.once('end', () => tap.end('in'));
  // 'finish': end() was called and every queued byte has been handed to the kernel, FIN with it.
  socket.once('finish', () => tap.end('out'));
  socket.once('close', (hadError: boolean) => tap.close(hadError));
  return tap;
}

/**
 * guardStreamTap and guardPacketTap put a tap behind a last line of defence: the first time one
 * of its methods throws, the tap is dropped and told nothing more, so an observer's bug never
 * reaches the socket's event handlers (and never ends the connection or the process).
 * Library-internal.
 */
function guardStreamTap(tap: StreamTap): StreamTap {
  const call = fuse();
  return {
    data: (direction, chunk) => call(() => tap.data(direction, chunk)),
    end: (direction) => call(() => tap.end(direction)),
    close: (failed) => call(() => tap.close(failed)),
  };
}

export function guardPacketTap(tap: PacketTap): PacketTap {
  const call = fuse();
  return {
    datagram: (direction, data, peer) => call(() => tap.datagram(direction, data, peer)),
    close: () => call(() => tap.close()),
  };
}

/** fuse returns a caller that runs what it is given until one throws, and nothing after. */
function fuse(): (work: () => void) => void {
  let blown = false;
  return (work) => {
    if (blown) return;
    try {
      work();
    } catch {
      blown = true;
    }
  };
}

function endpointOf(address: string | undefined, port: number | undefined): PacketEndpoint | undefined {
  return address === undefined || port === undefined ? undefined : { address, port };
}
