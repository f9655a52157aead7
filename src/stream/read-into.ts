/**
 * readInto: reading a stream socket without the readable-stream machinery, for hot paths such
 * as the echo server. Measured on a 64-byte ping-pong, it cuts the server's CPU time per message
 * by about a fifth (docs/performance.md).
 */
import type { Socket } from 'node:net';

/** ReadHandler receives `length` bytes read into `buffer`. To stop reading, call `socket.pause()` (and `resume()` later). */
export type ReadHandler = (length: number, buffer: Buffer) => void;

/** MIN_READ and MAX_READ bound the buffers readInto's adaptive sizing hands out. */
export const MIN_READ = 256;
export const MAX_READ = 64 * 1024;

interface PrivateFields {
  _handle?: { useUserBuffer?: (buffer: Uint8Array) => void } | null;
  [key: symbol]: unknown;
}

/**
 * readInto switches a plain TCP or Unix socket to Node's `onread` mode: each read lands in a
 * buffer that the socket passes to `onRead` directly, with no 'data' event, no readable queue,
 * and no fresh 64 KiB allocation per read. The buffer is reused for the next read unless a write
 * on this socket still holds it (the echo case: `onRead` may write `buffer` to this same socket);
 * anything else `onRead` wants to keep, it must copy. Buffers start at MIN_READ bytes and double
 * (up to MAX_READ) while reads fill them, so an idle connection holds a small one and a bulk
 * stream reads in large ones.
 *
 * Node offers `onread` only to `net.connect`; for an accepted socket this sets the same fields
 * that option sets. It must be called before the socket has read anything. It returns false, and
 * changes nothing, when it cannot apply (a TLS socket, data already read, or a Node.js whose
 * sockets lack those fields): the caller then reads with 'data' events as usual. 'end', 'error',
 * `pause()`, `resume()`, timeouts and `bytesRead` work as before.
 */
export function readInto(socket: Socket, onRead: ReadHandler): boolean {
  const fields = socket as unknown as PrivateFields;
  const handle = fields._handle;
  if ('encrypted' in socket || socket.bytesRead > 0 || socket.readableLength > 0) return false;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  const symbols = new Map(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const kBuffer = symbols.get('kBuffer');
  const kBufferCb = symbols.get('kBufferCb');
  const kBufferGen = symbols.get('kBufferGen');
  if (!kBuffer || !kBufferCb || !kBufferGen || fields[kBuffer] !== null) return false;
  let size = MIN_READ;
  let current = Buffer.allocUnsafe(size);
  let reusable = false;
  fields[kBufferCb] = (length: number, buffer: Buffer): boolean => {
    // Grow while reads fill the buffer; shrink when they use little of it.
    if (length === buffer.length && size < MAX_READ) size *= 2;
    else if (length < size >>> 3 && size > MIN_READ) size >>>= 1;
    onRead(length, buffer);
    // A write that did not complete at once still points into the buffer: the next read needs another.
    reusable = socket.writableLength === 0;
    return true;
  };
  fields[kBufferGen] = (): Buffer => {
    if (!reusable || current.length !== size) current = Buffer.allocUnsafe(size);
    return current;
  };
  fields[kBuffer] = current;
  handle.useUserBuffer(current);
  return true;
}
