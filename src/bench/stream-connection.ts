/**
 * StreamConnection is what every stream load connection shares, whatever it sends: its life
 * (connecting, open, failed, each failure counted once by kind) and its schedule (`depth` messages
 * in flight in the closed loop, refilled one per answer, or with `batch` sent `depth` at a time in
 * one write once the last batch is all answered; a fixed timetable in the open loop, where latency
 * is measured from when each message was due). A subclass says what message `n` is and how
 * replies are read.
 */
import type { Socket } from 'node:net';
import { recordMs } from './latency.js';
import { type ErrorKind, errorKindOf, type LoadPlan, type Tally } from './load.js';
import { SendSchedule } from './send-schedule.js';

/** OPEN_LOOP_QUEUE caps the bytes an open-loop connection leaves queued in its socket: a slow server delays sends (and the latency shows it) rather than growing memory. */
const OPEN_LOOP_QUEUE = 1 << 20;

/** JOIN_BELOW is the largest batch of messages joined into one write rather than corked. */
const JOIN_BELOW = 16 << 10;

/** StreamHost is the load loop a connection reports to. */
export interface StreamHost {
  readonly plan: LoadPlan;
  readonly running: boolean;
  /** stopped is true once the run has stopped: what happens to a connection after that is no fault. */
  readonly stopped: boolean;
  readonly tally: Tally;
  connectionOpened(): void;
  connectionFailed(kind: ErrorKind, wasOpen: boolean): void;
}

/** StreamConnection is one connection's life and send schedule; see the module comment. */
export abstract class StreamConnection {
  readonly socket: Socket;
  protected readonly load: StreamHost;
  /** The connection's number across the run. */
  readonly id: number;
  /** Send times of the messages in flight, by message number modulo depth (closed loop). */
  readonly #sentAt: Float64Array;
  /** Messages sent, and messages answered whole. */
  protected sent = 0;
  protected completed = 0;
  /** Connecting until `opened` or `fail`, then open, then failed. */
  #state: 'connecting' | 'open' | 'failed' = 'connecting';
  readonly #schedule: SendSchedule;

  constructor(load: StreamHost, socket: Socket, id: number) {
    this.load = load;
    this.socket = socket;
    this.id = id;
    const plan = load.plan;
    this.#schedule = new SendSchedule(plan, id);
    this.#sentAt = new Float64Array(this.#schedule.isOpenLoop ? 1 : plan.depth);
    // Plain sockets deliver reads through `onread` (see StreamLoad's #onread); TLS sockets as 'data'.
    socket.on('data', (chunk: Buffer) => this.onData(chunk, chunk.length));
    // Every failure ends here, counted once by its kind: the first of 'error' and 'close' wins.
    socket.on('error', (err) => {
      if (this.#state === 'open') this.fail(errorKindOf(err));
    });
    socket.on('close', () => {
      if (this.#state === 'open') this.fail('closed');
    });
  }

  /** message returns the bytes of this connection's message number `n`. */
  protected abstract message(n: number): Buffer;

  /** onData reads `length` bytes that arrived in `chunk` (a buffer reused after the call). */
  abstract onData(chunk: Buffer, length: number): void;

  /** isOpen is true from a successful connect until the connection fails or the run stops. */
  get isOpen(): boolean {
    return this.#state === 'open' && !this.socket.destroyed;
  }

  /** isFailed is true once the connection failed: it reads nothing more. */
  protected get isFailed(): boolean {
    return this.#state === 'failed';
  }

  /** outstanding is the messages sent and not answered (yet). */
  get outstanding(): number {
    return this.sent - this.completed;
  }

  /** isClosedLoop is true when each answer sends the next message. */
  protected get isClosedLoop(): boolean {
    return !this.#schedule.isOpenLoop;
  }

  /** opened marks the connect done: from now on the connection's own events count its failure. */
  opened(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.load.connectionOpened();
  }

  /** fail counts this connection's failure as `kind` (once, and only while the run is on) and closes it. */
  fail(kind: ErrorKind): void {
    if (this.#state === 'failed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'failed';
    this.socket.destroy();
    this.load.connectionFailed(kind, wasOpen);
  }

  /** start sends the first `depth` messages (closed loop), or arms the schedule (open loop). */
  start(now: number): void {
    if (!this.isOpen) return;
    this.#schedule.start(now);
    if (this.#schedule.isOpenLoop) {
      this.sendDue(now);
      return;
    }
    const depth = this.load.plan.depth;
    if (depth === 1) this.send(now);
    else this.#sendBatch(depth, now);
  }

  /** sendDue sends the open-loop messages whose intended time has passed, while the socket has room. */
  sendDue(now: number): void {
    if (this.socket.destroyed) return;
    const due = this.#schedule.due(now);
    while (this.sent < due && this.socket.writableLength < OPEN_LOOP_QUEUE && !this.isFailed) this.send(now);
  }

  /** send writes the next message. */
  protected send(now: number): void {
    this.#sentAt[this.sent % this.#sentAt.length] = now;
    this.socket.write(this.message(this.sent));
    this.sent += 1;
  }

  /**
   * answered counts `count` more messages answered at `now`: their latency, and in the closed loop
   * one new message sent for each (written together), or with `batch` the next `depth` once
   * none is left in flight.
   */
  protected answered(count: number, now: number): void {
    const load = this.load;
    const histogram = load.tally.histogram;
    const counters = load.tally.counters;
    for (let i = 0; i < count; i += 1) {
      recordMs(histogram, now - this.#sentTime(this.completed));
      this.completed += 1;
      counters.messages += 1;
    }
    if (this.#schedule.isOpenLoop || !load.running || this.isFailed) return;
    if (load.plan.batch) {
      if (this.sent === this.completed) this.#sendBatch(load.plan.depth, now);
    } else if (count === 1) this.send(now);
    else this.#sendBatch(count, now);
  }

  /**
   * #sendBatch sends `count` messages at once: small ones joined into one write (one write per
   * batch rather than per message is most of a pipelined run's CPU), large ones corked together
   * (joining them would copy them).
   */
  #sendBatch(count: number, now: number): void {
    const parts: Buffer[] = [];
    let bytes = 0;
    try {
      for (let i = 0; i < count; i += 1) {
        const message = this.message(this.sent + i);
        parts.push(message);
        bytes += message.length;
      }
    } catch {
      this.fail('protocol'); // a request its substitutions made too long for its frame
      return;
    }
    for (let i = 0; i < count; i += 1) this.#sentAt[(this.sent + i) % this.#sentAt.length] = now;
    this.sent += count;
    if (bytes <= JOIN_BELOW) {
      this.socket.write(Buffer.concat(parts, bytes));
      return;
    }
    this.socket.cork();
    for (const part of parts) this.socket.write(part);
    this.socket.uncork();
  }

  /** #sentTime is when message `n` was sent (closed loop) or meant to be sent (open loop: coordinated omission). */
  #sentTime(n: number): number {
    if (this.#schedule.isOpenLoop) return this.#schedule.intended(n);
    return this.#sentAt[n % this.#sentAt.length] as number;
  }
}
