/**
 * FaultStage is one direction of a stream with faults in it: a Writable that passes what is
 * written to it on to a sink, late (`delay`, `jitter`), slowly (`throttle`), in small pieces
 * (`slice`) and only up to a byte budget (`resetAfter`, `closeAfter` in bytes). It knows nothing
 * of sockets, so it joins any pair of streams: `source.pipe(stage)`, or a Conn's data events.
 */
import { Writable } from 'node:stream';
import type { FaultCounts } from './fault-counts.js';
import type { FaultPlan } from './fault-plan.js';
import type { Prng } from './prng.js';
import { TokenBucket } from './token-bucket.js';

/**
 * FaultSink is where a stage delivers: a `net.Socket`, or any Writable. `write` calls its
 * callback once the chunk has been handed on (for a socket: to the kernel).
 */
export interface FaultSink {
  write(chunk: Buffer, callback: (err?: Error | null) => void): boolean;
  end(): unknown;
}

/** DEFAULT_QUEUE_LIMIT is how many bytes a stage holds back before it stops taking more (see FaultStageOptions). */
export const DEFAULT_QUEUE_LIMIT = 1024 ** 2;

/**
 * ByteBudget is how many bytes may still pass a connection before it is cut (`resetAfter` or
 * `closeAfter` in bytes). Every stage of the connection takes from the same budget, so both
 * directions together count; whoever writes the last byte calls `onSpent`, once, after that
 * byte has been handed on.
 */
export class ByteBudget {
  #remaining: number;
  readonly #onSpent: () => void;
  #fired = false;

  /** The constructor makes a budget of `bytes`; `onSpent` is called once it has all been passed on. */
  constructor(bytes: number, onSpent: () => void) {
    this.#remaining = bytes;
    this.#onSpent = onSpent;
  }

  /** remaining is the bytes that may still pass. */
  get remaining(): number {
    return this.#remaining;
  }

  /** take grants up to `bytes` of the budget and returns how many (0 once it is spent). */
  take(bytes: number): number {
    const granted = Math.min(bytes, this.#remaining);
    this.#remaining -= granted;
    return granted;
  }

  /** fireIfSpent calls `onSpent` if the budget is spent and it has not been called yet. */
  fireIfSpent(): void {
    if (this.#remaining > 0 || this.#fired) return;
    this.#fired = true;
    this.#onSpent();
  }
}

/** FaultStageOptions say what a stage injects, with what randomness, and where it counts. */
export interface FaultStageOptions {
  readonly plan: FaultPlan;
  /** The generator of this stage's jitter (one per direction, so directions do not disturb each other). */
  readonly prng: Prng;
  readonly counts: FaultCounts;
  /** The connection's budgets; the stage stops delivering when any is spent. */
  readonly budgets?: readonly ByteBudget[] | undefined;
  /**
   * The bytes held back (delayed or throttled) past which the stage stops taking more, so its
   * source is paused: memory stays bounded whatever the source sends. Default 1 MiB.
   */
  readonly queueLimit?: number | undefined;
  /** End the sink once the stage has ended and delivered everything. Default true. */
  readonly endSink?: boolean | undefined;
  /** The clock, in ms; `performance.now` by default. */
  readonly now?: (() => number) | undefined;
}

interface Held {
  readonly chunk: Buffer;
  readonly due: number;
  offset: number;
}

/**
 * FaultStage delivers what is written to it to `sink`, in order, with the faults of its plan:
 * each chunk is held until its delay has passed (never overtaking the one before), paced by a
 * token bucket, cut into slices written one after another (the next once the last was handed
 * on), and stopped when a budget is spent. One write to the sink is in flight at a time, so a
 * slow sink slows the stage, and the stage's queue limit then slows its source (backpressure).
 *
 * `cut()` stops it for good: what is held is dropped and what is written later is discarded.
 * Its timer is cleared when it is cut, destroyed or finished. It never emits 'error': a failing
 * sink cuts it (whoever owns the sink hears of the failure from the sink itself).
 */
export class FaultStage extends Writable {
  readonly #sink: FaultSink;
  readonly #plan: FaultPlan;
  readonly #prng: Prng;
  readonly #counts: FaultCounts;
  readonly #budgets: readonly ByteBudget[];
  readonly #queueLimit: number;
  readonly #endSink: boolean;
  readonly #now: () => number;
  readonly #bucket: TokenBucket | undefined;
  readonly #held: Held[] = [];
  #heldBytes = 0;
  #lastDue = 0;
  #timer: NodeJS.Timeout | undefined;
  #nextSlice: NodeJS.Immediate | undefined;
  #writing = false;
  #cut = false;
  /** The callback of a write the stage has not taken yet (backpressure), or of `end`. */
  #waitingWrite: (() => void) | undefined;
  #waitingFinal: ((err?: Error | null) => void) | undefined;

  constructor(sink: FaultSink, options: FaultStageOptions) {
    super({ decodeStrings: true });
    this.#sink = sink;
    this.#plan = options.plan;
    this.#prng = options.prng;
    this.#counts = options.counts;
    this.#budgets = options.budgets ?? [];
    this.#queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.#endSink = options.endSink ?? true;
    this.#now = options.now ?? (() => performance.now());
    const { throttle } = options.plan;
    this.#bucket = throttle ? new TokenBucket(throttle, this.#now()) : undefined;
    // A write after destroy reports an error on the stream; nobody must crash of it.
    this.on('error', ignore);
  }

  /** isCut is true once the stage has been cut: it delivers nothing more. */
  get isCut(): boolean {
    return this.#cut;
  }

  /** cut stops the stage for good: what it holds is dropped, what comes later is discarded. */
  cut(): void {
    if (this.#cut) return;
    this.#cut = true;
    clearTimeout(this.#timer);
    clearImmediate(this.#nextSlice);
    this.#timer = undefined;
    this.#nextSlice = undefined;
    this.#held.length = 0;
    this.#heldBytes = 0;
    this.#release();
    const final = this.#waitingFinal;
    this.#waitingFinal = undefined;
    final?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#cut || chunk.length === 0) {
      callback();
      return;
    }
    this.#held.push({ chunk, due: this.#dueTime(), offset: 0 });
    this.#heldBytes += chunk.length;
    if (this.#heldBytes < this.#queueLimit) callback();
    else this.#waitingWrite = () => callback();
    this.#pump();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#cut) {
      callback();
      return;
    }
    this.#waitingFinal = callback;
    this.#pump();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.cut();
    callback(err);
  }

  /** dueTime is when a chunk written now may be delivered: its delay past now, never before the last one's. */
  #dueTime(): number {
    const now = this.#now();
    const { delay = 0, jitter = 0 } = this.#plan;
    if (delay === 0 && jitter === 0) return now;
    const spread = jitter === 0 ? 0 : this.#prng.between(-jitter, jitter);
    const due = Math.max(this.#lastDue, now + Math.max(0, delay + spread));
    this.#lastDue = due;
    this.#counts.chunksDelayed += 1;
    return due;
  }

  /** pump delivers the next piece when it is due and allowed, or sets the one timer that will. */
  #pump(): void {
    if (this.#writing || this.#timer || this.#nextSlice || this.#cut) return;
    const head = this.#held[0];
    if (!head) {
      this.#finishIfEnded();
      return;
    }
    const now = this.#now();
    let size = head.chunk.length - head.offset;
    if (this.#plan.slice) size = Math.min(size, this.#plan.slice);
    if (head.due > now) {
      this.#wait(head.due - now);
      return;
    }
    if (this.#bucket) {
      // A piece goes as soon as the bucket is not in debt, and leaves it in debt: a timer that
      // fires late then costs nothing, where waiting for a full piece's tokens would lose them.
      size = Math.min(size, this.#bucket.burst);
      const wait = this.#bucket.waitFor(now);
      if (wait > 0) {
        this.#counts.throttleWaits += 1;
        this.#wait(wait);
        return;
      }
      this.#bucket.spend(size, now);
    }
    for (const budget of this.#budgets) size = Math.min(size, budget.remaining);
    for (const budget of this.#budgets) budget.take(size);
    // A budget is spent: the stage that passed its last byte cuts the connection once that byte
    // is handed on; until then nothing more passes here.
    if (size === 0) return;
    const piece = head.chunk.subarray(head.offset, head.offset + size);
    head.offset += size;
    this.#heldBytes -= size;
    if (head.offset === head.chunk.length) this.#held.shift();
    if (this.#plan.slice) this.#counts.slices += 1;
    this.#writing = true;
    this.#sink.write(piece, (err) => {
      this.#writing = false;
      if (err) return this.cut();
      for (const budget of this.#budgets) budget.fireIfSpent();
      // Slices go out one turn of the event loop apart, so each leaves in its own write.
      if (!this.#plan.slice) return this.#pump();
      this.#nextSlice = setImmediate(() => {
        this.#nextSlice = undefined;
        this.#pump();
      });
    });
    if (this.#heldBytes < this.#queueLimit) this.#release();
  }

  #wait(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.ceil(ms));
  }

  /** release takes the write that was waiting for room in the queue. */
  #release(): void {
    const waiting = this.#waitingWrite;
    this.#waitingWrite = undefined;
    waiting?.();
  }

  /** finishIfEnded ends the sink once the stage has ended and everything held has been delivered. */
  #finishIfEnded(): void {
    const final = this.#waitingFinal;
    if (!final) return;
    this.#waitingFinal = undefined;
    if (this.#endSink) this.#sink.end();
    final();
  }
}

function ignore(): void {}
