/**
 * join copies two BridgeSides into each other until both directions are done: the bridge under
 * `forward`, `relay`, `listen --exec` and `connect --exec`.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BridgeSide } from './side.js';

/**
 * JoinFilters put a stream on the way of each direction: every chunk from `a` goes through
 * `aToB` before reaching `b`, and the end of `a` ends `aToB`, whose end closes `b`'s write side.
 * This is where an observer sits (a capture, a fault plan): a PassThrough sees the bytes, a
 * Transform may delay, cut or drop them. A filter that fails ends the bridge, and `join`
 * destroys both filters once it is done (a filter holding bytes back lets go of them then).
 */
export interface JoinFilters {
  readonly aToB?: Duplex | undefined;
  readonly bToA?: Duplex | undefined;
}

/** JoinOptions tune `join`. */
export interface JoinOptions {
  /** Aborting it closes both sides at once. */
  readonly signal?: AbortSignal | undefined;
  readonly filters?: JoinFilters | undefined;
}

/** JoinSummary counts the bytes read from each side (each was written to the other, unless it failed). */
export interface JoinSummary {
  /** Bytes read from `a`, for `b`. */
  readonly bytesAToB: number;
  /** Bytes read from `b`, for `a`. */
  readonly bytesBToA: number;
  /** True when both directions ended cleanly (each side's end reached the other), false when one side closed first or the signal aborted. */
  readonly complete: boolean;
}

/**
 * join copies `a` to `b` and `b` to `a`, each direction with backpressure (a full writer pauses
 * its reader, so memory stays bounded whatever the peers do) and half-close: the end of one side
 * closes the write side of the other, and the other direction goes on. A writer that fails (a
 * program that exited and no longer reads its stdin) makes its direction discard what it reads
 * until its reader ends, so the other direction can finish. It resolves once both directions are
 * done, or a side that closes by itself has closed (a reset, the peer gone), or the signal aborts,
 * and then both sides are closed. It never rejects.
 */
export function join(a: BridgeSide, b: BridgeSide, options: JoinOptions = {}): Promise<JoinSummary> {
  const aToB = { bytes: 0 };
  const bToA = { bytes: 0 };
  return new Promise((resolve) => {
    let finished = false;
    let directionsLeft = 2;
    const finish = async (complete: boolean): Promise<void> => {
      if (finished) return;
      finished = true;
      options.signal?.removeEventListener('abort', onAbort);
      a.close();
      b.close();
      options.filters?.aToB?.destroy();
      options.filters?.bToA?.destroy();
      await Promise.all([a.closed, b.closed]);
      resolve({ bytesAToB: aToB.bytes, bytesBToA: bToA.bytes, complete });
    };
    const directionDone = (): void => {
      directionsLeft -= 1;
      if (directionsLeft === 0) void finish(true);
    };
    const onAbort = (): void => void finish(false);
    copy(a, b, options.filters?.aToB, aToB).then(directionDone, onAbort);
    copy(b, a, options.filters?.bToA, bToA).then(directionDone, onAbort);
    for (const side of [a, b]) {
      if (!side.closesItself) continue;
      void side.closed.then(() => {
        // Closed after both its ends (read to EOF, write side finished): both directions are
        // over and about to say so. Anything else (a reset, a close mid-way) ends the bridge now.
        const clean = side.readable.readableEnded && side.writable.writableFinished;
        if (!clean) void finish(false);
      });
    }
    if (options.signal?.aborted) void finish(false);
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * copy pumps one direction, through `filter` when there is one, and resolves once the end of
 * `from` has been passed on and every byte written (the write side closed). It rejects when the
 * filter fails. Every byte read from `from` is counted in `read.bytes`.
 */
function copy(
  from: BridgeSide,
  to: BridgeSide,
  filter: Duplex | undefined,
  read: { bytes: number },
): Promise<void> {
  if (!filter) return pump(from.readable, (l) => from.onData(l), to, read);
  return new Promise((resolve, reject) => {
    filter.once('error', reject);
    const intoFilter: BridgeSide = {
      ...to,
      writable: filter,
      write: (chunk) => filter.write(chunk),
      closeWrite: () => {
        filter.end();
        return Promise.resolve();
      },
    };
    // The filter's reader first: a side may deliver bytes it already holds as soon as it is
    // listened to (see readIntoHeld), and a flowing filter passes them on at once.
    pump(
      filter,
      (l) => {
        filter.on('data', l);
      },
      to,
    ).then(resolve, reject);
    void pump(from.readable, (l) => from.onData(l), intoFilter, read);
  });
}

/**
 * pump copies what `listen` delivers from `readable` into `to` until `readable` ends, then
 * closes `to`'s write side; it resolves once that is done. When `to` fails, what is read is
 * discarded until the end (see `join`). What is read is counted in `read.bytes`, when given.
 */
function pump(
  readable: BridgeSide['readable'],
  listen: (listener: (chunk: Buffer) => boolean) => void,
  to: BridgeSide,
  read?: { bytes: number },
): Promise<void> {
  return new Promise((resolve) => {
    const writable = to.writable;
    let failed = false;
    const resume = (): void => {
      readable.resume();
    };
    // A writer that fails, or is closed under us (a program's stdin once it exited), takes no more.
    const fail = (): void => {
      if (failed) return;
      failed = true;
      writable.off('drain', resume);
      readable.resume();
    };
    writable.once('error', fail);
    writable.once('close', fail);
    // One listener for the whole copy, not one per pause: a drain with nothing paused is harmless.
    writable.on('drain', resume);
    // Only a socket's write is done with the chunk once nothing is queued (the kernel copied it);
    // a stream (a filter, a pipe) may keep it.
    const keeps = !(writable instanceof Socket);
    listen((chunk) => {
      if (read) read.bytes += chunk.length;
      if (failed) return false;
      if (writable.destroyed) {
        fail();
        return false;
      }
      // A chunk larger than the writer's high-water mark makes `write` say false even when the
      // kernel took all of it at once: wait only while bytes are really queued.
      if (!to.write(chunk) && writable.writableLength >= writable.writableHighWaterMark) readable.pause();
      return keeps || writable.writableLength > 0;
    });
    const onEnd = (): void => {
      if (failed) resolve();
      else void to.closeWrite().then(resolve);
    };
    // A socket that reads a FIN with nothing before it ends at once, whether read or not: a
    // client may have half-closed while its target was being reached.
    if (readable.readableEnded) onEnd();
    else readable.once('end', onEnd);
  });
}
