/**
 * Every private Node.js field sockkit reads, in one place. Each is used only where speed or a
 * Node bug leaves no public way, each lookup fails soft (undefined, and the caller takes the public
 * path), and test/node-internals.test.ts fails loudly when a Node release renames one.
 *
 * Checked on Node.js 20.20 (the supported line) and 22.x: `net.Socket` keeps its `onread` option
 * in the symbol-keyed fields `kBuffer`, `kBufferCb` and `kBufferGen` and reads through
 * `_handle.useUserBuffer`; a `TLSSocket` made by a server keeps the TCP socket it wraps as
 * `_parent`, and an accepted socket points to its server as `server`. A bound `dgram.Socket` keeps
 * its native handle (with `fd` and `recvStop()`) in the field keyed by the symbol described
 * `state symbol` (its public `_handle` getter is deprecated, DEP0112, and warns).
 */
import type { Socket as DatagramSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';

/** OnReadFields are where a socket keeps Node's `onread` mode: the buffer, its callback, its generator. */
export interface OnReadFields {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/** OnReadAccess is a socket's `onread` machinery: its native handle and the fields above. */
export interface OnReadAccess {
  readonly fields: OnReadFields;
  useUserBuffer(buffer: Uint8Array): void;
  get(field: symbol): unknown;
  set(field: symbol, value: unknown): void;
}

interface PrivateSocket {
  _handle?: { useUserBuffer?: (buffer: Uint8Array) => void } | null;
  _parent?: Socket | null;
  server?: Server | null;
  [key: symbol]: unknown;
}

/** The symbols are the same for every socket of a process: found once, on the first socket asked. */
let onReadFields: OnReadFields | null | undefined;

/**
 * onReadAccess returns the private `onread` fields of `socket`, or undefined when this Node.js
 * does not have them (or the socket has no native handle yet): the caller then reads with 'data'.
 */
export function onReadAccess(socket: Socket): OnReadAccess | undefined {
  const fields = socket as unknown as PrivateSocket;
  const handle = fields._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return undefined;
  onReadFields ??= findOnReadFields(socket);
  if (!onReadFields) return undefined;
  return {
    fields: onReadFields,
    useUserBuffer: (buffer) => handle.useUserBuffer?.(buffer),
    get: (field) => fields[field],
    set: (field, value) => {
      fields[field] = value;
    },
  };
}

function findOnReadFields(socket: Socket): OnReadFields | null {
  const symbols = new Map(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const buffer = symbols.get('kBuffer');
  const callback = symbols.get('kBufferCb');
  const generator = symbols.get('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : null;
}

/**
 * tlsParentSocket returns the TCP socket a server-side TLSSocket wraps, or undefined. After a
 * failed handshake the TLSSocket may have lost its peer's address while the TCP socket still knows it.
 */
export function tlsParentSocket(socket: Socket): Socket | undefined {
  return (socket as unknown as PrivateSocket)._parent ?? undefined;
}

/** serverOf returns the server that accepted `socket`, or undefined for a socket made by connect. */
export function serverOf(socket: Socket): Server | undefined {
  return (socket as unknown as PrivateSocket).server ?? undefined;
}

/** DatagramHandle is the part of a bound dgram socket's native handle the native datagram path uses. */
export interface DatagramHandle {
  /** The socket's descriptor. */
  readonly fd: number;
  /** recvStop stops Node's own reading, so that datagrams go to the native path only. */
  recvStop(): void;
}

interface PrivateDatagramState {
  handle?: { fd?: unknown; recvStop?: () => unknown } | null;
}

/**
 * datagramHandle returns the native handle of a bound `dgram.Socket`, or undefined when this
 * Node.js keeps it elsewhere (or the socket is not bound): the caller then stays on dgram.
 */
export function datagramHandle(socket: DatagramSocket): DatagramHandle | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (!key) return undefined;
  const handle = (socket as unknown as Record<symbol, PrivateDatagramState | undefined>)[key]?.handle;
  const fd = handle?.fd;
  const recvStop = handle?.recvStop;
  if (!handle || typeof fd !== 'number' || fd < 0 || typeof recvStop !== 'function') return undefined;
  return { fd, recvStop: () => void recvStop.call(handle) };
}
