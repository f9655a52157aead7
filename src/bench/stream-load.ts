/**
 * The stream load loop (tcp, unix, tls): many connections, each keeping `depth` messages in
 * flight (closed loop), sending on a fixed schedule (open loop), or opening a new connection per
 * message (reconnect). Every byte that comes back is compared with what was sent; a byte beyond
 * what was sent fails that connection (a protocol error), so a server that sends without end costs
 * nothing but the read buffer. A connection that fails is counted by kind and closed, never thrown.
 */
import type { OnReadOpts, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatAddress } from '../address.js';
import type { SockkitError } from '../errors.js';
import { codecFor, type FrameName } from '../framing/frame-names.js';
import { type DialTarget, dialSocket, dialTargets, resolveDialTargets, socketReady } from '../stream/dial.js';
import { clientTransportOptionsOf, openStreamSocket, type StreamTarget } from '../stream/transports.js';
import { recordMs } from './latency.js';
import {
  type ConnectOutcome,
  type ErrorKind,
  errorKindOf,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  openLoopSchedule,
  Tally,
} from './load.js';
import { MessageRing } from './payload.js';

/** OPEN_LOOP_QUEUE caps the bytes an open-loop connection leaves queued in its socket: a slow server delays sends (and the latency shows it) rather than growing memory. */
const OPEN_LOOP_QUEUE = 1 << 20;
/** How many connects run at once while opening connections, so a large run does not overflow the server's accept queue. */
const CONNECT_BATCH = 128;

/** ringFor builds the messages a run sends: a few dozen distinct ones, at most about 16 MiB in all. */
export function ringFor(size: number, frame?: FrameName): MessageRing {
  const count = Math.max(7, Math.min(61, Math.floor((16 << 20) / Math.max(size, 1))));
  if (!frame) return new MessageRing(size, count);
  const codec = codecFor(frame, { maxFrameSize: Math.max(size, 1) });
  // A line can hold neither a line feed nor a final carriage return: its payload is printable.
  const printable = (payload: Buffer): Buffer => payload.map((b) => 0x21 + (b % 94)) as Buffer;
  return new MessageRing(size, count, (payload) =>
    codec.encode(frame === 'line' ? printable(payload) : payload),
  );
}

/** StreamLoad drives stream connections; see LoadEngine for the life cycle. */
export class StreamLoad implements LoadEngine {
  readonly #plan: LoadPlan;
  readonly #ring: MessageRing;
  readonly #tally = new Tally();
  readonly #clients: StreamClient[] = [];
  /** The one read buffer every plain (non-TLS) connection of this loop reads into. */
  readonly #readBuffer = Buffer.allocUnsafe(256 << 10);
  #target: StreamTarget | undefined;
  #running = false;
  #stopped = false;
  /** Connections open now: connected, and not failed. */
  #openCount = 0;
  #onIdle: (() => void) | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(plan: LoadPlan, ring: MessageRing = ringFor(plan.size, plan.frame)) {
    this.#plan = plan;
    this.#ring = ring;
  }

  /**
   * connect opens the connections. The name is resolved once, as `dial` resolves it; the first
   * connection tries each address in turn, as `dial` does (with its TLS options, timeout and
   * errors), and the others then go straight to the address that answered, in batches. A
   * connection that fails to open is counted by kind; the run goes on if any opened.
   */
  async connect(): Promise<ConnectOutcome> {
    const plan = this.#plan;
    const dialOptions = { ...clientTransportOptionsOf(plan), timeout: plan.connectTimeout };
    if (plan.reconnect) {
      // One probe finds where the server answers; each round then connects there.
      try {
        const probe = await dialSocket(plan.address, dialOptions);
        probe.socket.destroy();
        this.#target = probe.target;
      } catch (err) {
        return { opened: 0, error: err as SockkitError };
      }
      return { opened: plan.connections };
    }
    const deadline = Date.now() + plan.connectTimeout;
    let targets: DialTarget[];
    try {
      targets = await resolveDialTargets(plan.address, dialOptions, deadline);
    } catch (err) {
      return { opened: 0, error: err as SockkitError };
    }
    let opened = 0;
    let error: SockkitError | undefined;
    // Reads land in #readBuffer and go to the connection's client (see openStreamSocket's `onread`).
    // The first one's client exists before its first read: dialTargets resolves on 'connect',
    // and the read callback can run only on a later turn of the event loop.
    let firstClient: StreamClient | undefined;
    let target = (targets[0] as DialTarget).target;
    try {
      const onread = this.#onread((buffer, length) => firstClient?.onData(buffer, length));
      const dialed = await dialTargets(plan.address, targets, dialOptions, deadline, { onread });
      target = dialed.target;
      firstClient = new StreamClient(this, dialed.socket, plan.firstConnection);
      this.#clients.push(firstClient);
      firstClient.opened();
      opened += 1;
    } catch (err) {
      error = err as SockkitError;
      this.recordError(errorKindOf(err));
    }
    this.#target = target;
    const url = formatAddress(plan.address);
    for (let first = 1; first < plan.connections; first += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(plan.connections, first + CONNECT_BATCH); i += 1) {
        // Reads only start once connected, after `client` below exists.
        const onread = this.#onread((buffer, length) => client.onData(buffer, length));
        const opening = openStreamSocket(plan.address, target, plan, { onread });
        const client = new StreamClient(this, opening.socket, plan.firstConnection + i);
        this.#clients.push(client);
        batch.push(
          socketReady(opening, url, Date.now() + plan.connectTimeout).then(
            () => {
              opened += 1;
              client.opened();
            },
            (err: SockkitError) => {
              error ??= err;
              client.fail(errorKindOf(err));
            },
          ),
        );
      }
      await Promise.all(batch);
    }
    return { opened, error };
  }

  /**
   * #onread reads a plain (tcp, unix) socket into the one buffer every connection of this loop
   * shares, skipping the stream machinery: no allocation per read. `deliver` must be done with the
   * bytes when it returns. TLS sockets ignore it and emit 'data'.
   */
  #onread(deliver: (buffer: Buffer, length: number) => void): OnReadOpts {
    return {
      buffer: this.#readBuffer,
      callback: (length: number, buffer: Uint8Array): boolean => {
        deliver(buffer as Buffer, length);
        return true;
      },
    };
  }

  start(onIdle?: () => void): void {
    this.#running = true;
    const now = performance.now();
    const plan = this.#plan;
    if (plan.reconnect) {
      for (let i = 0; i < plan.connections; i += 1) this.#cycle(plan.firstConnection + i);
      return;
    }
    this.#onIdle = onIdle;
    if (this.#openCount === 0) queueMicrotask(() => this.#idle());
    for (const client of this.#clients) client.start(now);
    if (plan.rate > 0) this.#ticker = setInterval(() => this.#tick(), 1);
  }

  sample(): Promise<LoadSample> {
    return Promise.resolve(this.#tally.take(this.#open()));
  }

  stop(): Promise<LoadSample> {
    this.#running = false;
    this.#stopped = true;
    clearInterval(this.#ticker);
    for (const client of this.#clients) client.socket.destroy();
    return Promise.resolve(this.#tally.take(0));
  }

  /** The state the clients share. */
  get running(): boolean {
    return this.#running;
  }
  /** stopped is true once `stop` was called: what happens to a connection after that is no fault. */
  get stopped(): boolean {
    return this.#stopped;
  }
  get tally(): Tally {
    return this.#tally;
  }
  get ring(): MessageRing {
    return this.#ring;
  }
  get plan(): LoadPlan {
    return this.#plan;
  }

  #open(): number {
    return this.#plan.reconnect ? this.#plan.connections : this.#openCount;
  }

  /** connectionOpened and connectionFailed keep the count of open connections (a client calls each at most once). */
  connectionOpened(): void {
    this.#openCount += 1;
  }
  connectionFailed(kind: ErrorKind, wasOpen: boolean): void {
    this.recordError(kind);
    if (!wasOpen) return;
    this.#openCount -= 1;
    if (this.#openCount === 0 && this.#running) this.#idle();
  }

  /** recordError counts one failed connection of `kind`, unless the run has stopped. */
  recordError(kind: ErrorKind): void {
    if (!this.#stopped) this.#tally.counters.errors[kind] += 1;
  }

  #idle(): void {
    const onIdle = this.#onIdle;
    this.#onIdle = undefined;
    onIdle?.();
  }

  /** #tick sends every open-loop message whose time has come. */
  #tick(): void {
    const now = performance.now();
    for (const client of this.#clients) client.sendDue(now);
  }

  /** #cycle is one reconnect-mode round: connect, send one message, read it back, close, repeat. */
  #cycle(id: number): void {
    if (!this.#running || !this.#target) return;
    const plan = this.#plan;
    const ring = this.#ring;
    const counters = (): typeof this.tally.counters => this.#tally.counters;
    const began = performance.now();
    const message = ring.message(id);
    const offset = (id % ring.count) * ring.size;
    let received = 0;
    let finished = false;
    const { socket, readyEvent } = openStreamSocket(plan.address, this.#target, plan);
    /** finish ends this round; `failure` is the kind of error that ended it, if one did. */
    const finish = (failure?: ErrorKind): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (!this.#running) return;
      if (failure) this.recordError(failure);
      // A failed connect retries on the next turn of the loop, not in a tight loop.
      if (failure) setTimeout(() => this.#cycle(id), 10);
      else setImmediate(() => this.#cycle(id));
    };
    const timer = setTimeout(() => finish('timed_out'), plan.connectTimeout);
    socket.once(readyEvent, () => socket.write(message));
    socket.on('data', (chunk: Buffer) => {
      if (!this.#running) return finish();
      if (received + chunk.length > ring.size) return finish('protocol'); // more than was sent
      if (!ring.matches(chunk, offset + received)) {
        counters().mismatches += 1;
        return finish();
      }
      received += chunk.length;
      counters().bytes += chunk.length;
      if (received < ring.size) return;
      recordMs(this.#tally.histogram, performance.now() - began);
      counters().messages += 1;
      counters().connects += 1;
      finish();
    });
    socket.on('error', (err) => finish(errorKindOf(err)));
    socket.on('close', () => finish('closed'));
  }
}

/** StreamClient is one connection's state: what it sent, when, and how much came back. */
class StreamClient {
  readonly socket: Socket;
  readonly #load: StreamLoad;
  /** The ring message this connection starts at, so connections send different bytes. */
  readonly #first: number;
  /** Send times of the messages in flight, by message number modulo depth (closed loop). */
  readonly #sentAt: Float64Array;
  #sent = 0;
  #completed = 0;
  #received = 0;
  #lastBad = -1;
  #startedAt = 0;
  /** Connecting until `connected` settles (its outcome is counted there), then open, then failed. */
  #state: 'connecting' | 'open' | 'failed' = 'connecting';
  /** Open loop: milliseconds between this connection's messages, and its first message's time. */
  #period = 0;
  #phase = 0;

  constructor(load: StreamLoad, socket: Socket, id: number) {
    this.#load = load;
    this.socket = socket;
    this.#first = id % load.ring.count;
    const plan = load.plan;
    this.#sentAt = new Float64Array(plan.rate > 0 ? 1 : plan.depth);
    ({ period: this.#period, phase: this.#phase } = openLoopSchedule(plan, id));
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

  /** isOpen is true from a successful connect until the connection fails or the run stops. */
  get isOpen(): boolean {
    return this.#state === 'open' && !this.socket.destroyed;
  }

  /** opened marks the connect done: from now on the connection's own events count its failure. */
  opened(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.#load.connectionOpened();
  }

  /** fail counts this connection's failure as `kind` (once, and only while the run is on) and closes it. */
  fail(kind: ErrorKind): void {
    if (this.#state === 'failed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'failed';
    this.socket.destroy();
    this.#load.connectionFailed(kind, wasOpen);
  }

  /** start sends the first `depth` messages (closed loop), or arms the schedule (open loop). */
  start(now: number): void {
    if (!this.isOpen) return;
    this.#startedAt = now;
    if (this.#period > 0) {
      this.sendDue(now);
      return;
    }
    const depth = this.#load.plan.depth;
    if (depth > 1) this.socket.cork();
    for (let i = 0; i < depth; i += 1) this.#send(now);
    if (depth > 1) this.socket.uncork();
  }

  /** sendDue sends the open-loop messages whose intended time has passed, while the socket has room. */
  sendDue(now: number): void {
    if (this.socket.destroyed) return;
    const due = Math.floor((now - this.#startedAt - this.#phase) / this.#period) + 1;
    while (this.#sent < due && this.socket.writableLength < OPEN_LOOP_QUEUE) this.#send(now);
  }

  #send(now: number): void {
    this.#sentAt[this.#sent % this.#sentAt.length] = now;
    this.socket.write(this.#load.ring.message(this.#first + this.#sent));
    this.#sent += 1;
  }

  /** #sentTime is when message `n` was sent (closed loop) or meant to be sent (open loop: coordinated omission). */
  #sentTime(n: number): number {
    if (this.#period > 0) return this.#startedAt + this.#phase + n * this.#period;
    return this.#sentAt[n % this.#sentAt.length] as number;
  }

  /**
   * onData checks and counts `length` bytes read into `chunk`, and sends one message per echo
   * completed (closed loop). Bytes beyond what was sent (before the run starts, nothing was) fail
   * the connection as a protocol error: the echoes they complete would each send another message,
   * and a server that sends without reading would pile them up in memory without end.
   */
  onData(chunk: Buffer, length: number): void {
    const load = this.#load;
    if (this.#state === 'failed' || load.stopped) return;
    const ring = load.ring;
    const owed = this.#sent * ring.size - this.#received;
    const used = Math.min(length, owed);
    if (used > 0) this.#check(chunk, used);
    if (length > owed) this.fail('protocol');
  }

  /** #check counts `length` echoed bytes at the start of `chunk`, all of them owed. */
  #check(chunk: Buffer, length: number): void {
    const load = this.#load;
    const now = performance.now();
    const ring = load.ring;
    const counters = load.tally.counters;
    const offset = this.#first * ring.size + this.#received;
    if (!ring.matches(chunk, offset, length)) {
      const { bad, last } = ring.badMessages(chunk.subarray(0, length), offset, this.#first + this.#lastBad);
      counters.mismatches += Math.max(bad, 1);
      this.#lastBad = last - this.#first;
    }
    this.#received += length;
    counters.bytes += length;
    const done = Math.floor(this.#received / ring.size);
    if (done === this.#completed) return;
    const histogram = load.tally.histogram;
    const closed = this.#period === 0;
    const batch = closed && done - this.#completed > 1;
    if (batch) this.socket.cork();
    while (this.#completed < done) {
      recordMs(histogram, now - this.#sentTime(this.#completed));
      this.#completed += 1;
      counters.messages += 1;
      if (closed && load.running) this.#send(now);
    }
    if (batch) this.socket.uncork();
  }
}
