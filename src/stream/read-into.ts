/**
 * readInto: reading a stream socket without the readable-stream machinery, for hot paths such
 * as the echo server. Measured on a 64-byte ping-pong, it cuts the server's CPU time per message
 * by about a fifth (docs/performance.md).
 */
import type { Socket } from 'node:net';
import { onReadAccess } from '../node-internals.js';

/**
 * ReadHandler receives the bytes of one read and the socket they came from. It may write the chunk
 * to that same socket (the echo case); anything else it keeps past the call, it must copy, or say
 * so by returning true (a write to another socket still pending): the buffer is then not used
 * again. To stop reading, call `socket.pause()` (and `resume()` later). One handler may serve
 * every socket: readInto then adds no per-socket closure, which matters for a server holding
 * many idle connections.
 */
export type ReadHandler = (chunk: Buffer, socket: Socket) => unknown;

/** OnRead is the callback Node's onread mode calls, with the socket as `this`. */
type OnRead = (this: Socket, length: number, buffer: Buffer) => boolean;

/** MIN_READ and MAX_READ bound the buffers readInto's adaptive sizing hands out. */
export const MIN_READ = 256;
export const MAX_READ = 64 * 1024;

/**
 * firstRead takes every connection's first read, so a connection that never sends holds no
 * buffer of its own. It is safe to share: reads run one at a time, and what lands in it is
 * copied before anyone can write it.
 */
let firstRead: Buffer | undefined;

/**
 * What the next read of the socket just read should land in: its last buffer again (`reusable`),
 * or a new one of `nextSize` bytes. Node calls the read callback and then, at once, the buffer
 * generator, so module-wide values carry the choice from one to the other: sockets keep no state
 * of their own for it (their buffer's length is their size).
 */
let nextSize = MIN_READ;
let reusable: Buffer | undefined;
function nextBuffer(): Buffer {
  const buffer = reusable ?? Buffer.allocUnsafe(nextSize);
  reusable = undefined;
  return buffer;
}

/** The read callback made for each handler, shared by every socket that handler reads. */
const callbacks = new WeakMap<ReadHandler, OnRead>();

/**
 * readInto switches a plain TCP or Unix socket to Node's `onread` mode: each read lands in a
 * buffer whose bytes the socket passes to `onRead` directly, with no 'data' event, no readable
 * queue, and no fresh 64 KiB allocation per read. A buffer is used again for the next read only
 * when no write on the socket still points into it. The first read goes to a buffer shared by all
 * sockets (and is copied), so idle connections cost no buffer; after it, a connection's buffer is
 * sized to its reads, from MIN_READ up to MAX_READ bytes.
 *
 * Node offers `onread` only to `net.connect`; for an accepted socket this sets the same fields
 * that option sets. It must be called before the socket has read anything. It returns false, and
 * changes nothing, when it cannot apply (a TLS socket, data already read, or a Node.js whose
 * sockets lack those fields): the caller then reads with 'data' events as usual. 'end', 'error',
 * `pause()`, `resume()`, timeouts and `bytesRead` work as before.
 */
export function readInto(socket: Socket, onRead: ReadHandler): boolean {
  if ('encrypted' in socket || socket.bytesRead > 0 || socket.readableLength > 0) return false;
  const access = onReadAccess(socket);
  if (!access || access.get(access.fields.buffer) !== null) return false;
  firstRead ??= Buffer.allocUnsafe(MAX_READ);
  let callback = callbacks.get(onRead);
  if (!callback) {
    callback = readCallback(onRead);
    callbacks.set(onRead, callback);
  }
  access.set(access.fields.callback, callback);
  access.set(access.fields.generator, nextBuffer);
  access.set(access.fields.buffer, firstRead);
  access.useUserBuffer(firstRead);
  return true;
}

/**
 * readCallback makes the onread callback for `onRead`. The buffer each read lands in is sized to
 * the reads before it: it doubles while reads fill it, and halves when they use under an eighth.
 */
function readCallback(onRead: ReadHandler): OnRead {
  return function (this: Socket, length: number, buffer: Buffer): boolean {
    if (buffer === firstRead) {
      // The shared first buffer: copy out, and size this socket's own buffer to the read.
      let size = MIN_READ;
      while (size < length && size < MAX_READ) size *= 2;
      onRead(Buffer.from(buffer.subarray(0, length)), this);
      nextSize = size;
      reusable = undefined;
      return true;
    }
    const size = buffer.length;
    const held = onRead(buffer.subarray(0, length), this) === true;
    if (length === size && size < MAX_READ) nextSize = size * 2;
    else if (length < size >>> 3 && size > MIN_READ) nextSize = size >>> 1;
    else nextSize = size;
    // A write the system did not take at once keeps pointing into this buffer until it is done,
    // and counts in writableLength until then: only with nothing pending may the buffer be reused.
    reusable = nextSize === size && this.writableLength === 0 && !held ? buffer : undefined;
    return true;
  };
}

/** HeldReads is a socket readInto reads before anyone takes its bytes: see readIntoHeld. */
export interface HeldReads {
  /**
   * release hands `onRead` the bytes held so far, then every later read, and lets the socket
   * read on. Call it once.
   */
  release(onRead: ReadHandler): void;
}

/**
 * readIntoHeld switches `socket` to readInto now, for a reader that is not ready yet (a forward's
 * client while its target is being reached): what it reads is held until `release`, and once
 * MAX_READ bytes are held the socket is paused, so the kernel keeps whatever follows (TCP flow
 * control). Without it, bytes sent that early would be read the usual way, and readInto could no
 * longer apply to the connection. Below the bound it goes on reading, so that a peer that resets
 * or closes meanwhile is seen at once. It returns undefined, and changes nothing, where readInto
 * cannot apply.
 */
export function readIntoHeld(socket: Socket): HeldReads | undefined {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let handler: ReadHandler | undefined;
  const onRead: ReadHandler = (chunk, from) => {
    if (handler) return handler(chunk, from);
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes >= MAX_READ) from.pause();
    return true;
  };
  if (!readInto(socket, onRead)) return undefined;
  return {
    release: (onReleased) => {
      handler = onReleased;
      // resume only asks for the next read, which comes from the event loop: the held bytes go first.
      socket.resume();
      for (const chunk of held.splice(0)) onReleased(chunk, socket);
    },
  };
}
