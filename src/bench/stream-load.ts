/**
 * The stream load loop (tcp, unix, tls): many connections, each keeping `depth` messages in
 * flight (closed loop), sending on a fixed schedule (open loop), or opening a new connection per
 * message (reconnect). An echo connection compares every byte that comes back with what was sent;
 * a request/response connection (`plan.request`) checks each reply (request-client.ts). A byte
 * beyond what was asked for fails that connection (a protocol error), so a server that sends
 * without end costs nothing but the read buffer. A connection that fails is counted by kind and
 * closed, never thrown.
 */
import type { OnReadOpts, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatAddress } from '../address.js';
import type { SockkitError } from '../errors.js';
import { codecFor, type Framing, isTextFraming } from '../framing/frame-names.js';
import {
  type DialOptions,
  type DialTarget,
  dialSocket,
  dialTargets,
  resolveDialTargets,
  socketReady,
} from '../stream/dial.js';
import { clientTransportOptionsOf, openStreamSocket, type StreamTarget } from '../stream/transports.js';
import { recordMs } from './latency.js';
import {
  type ConnectOutcome,
  type Counters,
  type ErrorKind,
  errorKindOf,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  Tally,
} from './load.js';
import { MessageRing } from './payload.js';
import { RequestClient } from './request-client.js';
import { RequestProtocol } from './request-spec.js';
import { StreamConnection, type StreamHost } from './stream-connection.js';

/** How long, at most, a request/response run waits at its end for the replies in flight. */
const DRAIN_MS = 500;
/** How many connects run at once while opening connections, so a large run does not overflow the server's accept queue. */
const CONNECT_BATCH = 128;

/** ringFor builds the messages a run sends: a few dozen distinct ones, at most about 16 MiB in all. */
export function ringFor(size: number, framing: Framing = {}): MessageRing {
  const { frame, delimiter } = framing;
  const count = Math.max(7, Math.min(61, Math.floor((16 << 20) / Math.max(size, 1))));
  if (!frame) return new MessageRing(size, count);
  const codec = codecFor(frame, { maxFrameSize: Math.max(size, 1), delimiter });
  if (!isTextFraming(frame)) return new MessageRing(size, count, (payload) => codec.encode(payload));
  // A line can hold neither a line feed nor a final carriage return, and a frame that never holds
  // its delimiter's first byte cannot hold its delimiter: the payload is printable, without that byte.
  const avoid = delimiter?.[0] ?? 0x0a;
  const printable = (payload: Buffer): Buffer =>
    payload.map((b) => {
      const c = 0x21 + (b % 94);
      return c === avoid ? 0x21 + ((c - 0x21 + 1) % 94) : c;
    }) as Buffer;
  return new MessageRing(size, count, (payload) => codec.encode(printable(payload)));
}

/** StreamLoad drives stream connections; see LoadEngine for the life cycle. */
export class StreamLoad implements LoadEngine {
  readonly #plan: LoadPlan;
  /** Echo mode: the messages sent; request/response mode: the requests and the reply check. */
  readonly #ring: MessageRing | undefined;
  readonly #protocol: RequestProtocol | undefined;
  readonly #tally = new Tally();
  readonly #clients: StreamConnection[] = [];
  /** The one read buffer every plain (non-TLS) connection of this loop reads into. */
  readonly #readBuffer = Buffer.allocUnsafe(256 << 10);
  #target: StreamTarget | undefined;
  #running = false;
  #stopped = false;
  /** Connections open now: connected, and not failed. */
  #openCount = 0;
  #onIdle: (() => void) | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(plan: LoadPlan) {
    this.#plan = plan;
    if (plan.request) this.#protocol = new RequestProtocol(plan.request, plan);
    else this.#ring = ringFor(plan.size, plan);
  }

  /** #client makes connection `id`'s client: an echo or a request/response one. */
  #client(socket: Socket, id: number): StreamConnection {
    if (this.#protocol) return new RequestClient(this, this.#protocol, socket, id);
    return new EchoClient(this, this.#ring as MessageRing, socket, id);
  }

  /**
   * connect opens the connections. The name is resolved once, as `dial` resolves it; the first
   * connection tries each address in turn, as `dial` does (with its TLS options, timeout and
   * errors), and the others then go straight to the address that answered, in batches. A
   * connection that fails to open is counted by kind; the run goes on if any opened.
   */
  async connect(): Promise<ConnectOutcome> {
    const plan = this.#plan;
    const dialOptions = {
      ...clientTransportOptionsOf(plan),
      timeout: plan.connectTimeout,
      family: plan.family,
    };
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
    if (plan.proxy && plan.proxy.length > 0) return this.#connectViaProxies(dialOptions);
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
    let firstClient: StreamConnection | undefined;
    let target = (targets[0] as DialTarget).target;
    try {
      const onread = this.#onread((buffer, length) => firstClient?.onData(buffer, length));
      const dialed = await dialTargets(plan.address, targets, dialOptions, deadline, { onread });
      target = dialed.target;
      firstClient = this.#client(dialed.socket, plan.firstConnection);
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
        const client = this.#client(opening.socket, plan.firstConnection + i);
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
   * #connectViaProxies opens every connection through the plan's proxies, in batches: each is a
   * tunnel of its own, so each is dialed in full. They read as TLS ones do, with 'data' events.
   */
  async #connectViaProxies(dialOptions: DialOptions): Promise<ConnectOutcome> {
    const plan = this.#plan;
    let opened = 0;
    let error: SockkitError | undefined;
    for (let first = 0; first < plan.connections; first += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(plan.connections, first + CONNECT_BATCH); i += 1) {
        batch.push(
          dialSocket(plan.address, dialOptions).then(
            ({ socket }) => {
              const client = this.#client(socket, plan.firstConnection + i);
              this.#clients.push(client);
              opened += 1;
              client.opened();
            },
            (err: SockkitError) => {
              error ??= err;
              this.recordError(errorKindOf(err));
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

  async stop(): Promise<LoadSample> {
    this.#running = false;
    clearInterval(this.#ticker);
    if (this.#protocol) await this.#drain();
    this.#stopped = true;
    for (const client of this.#clients) client.socket.destroy();
    return this.#tally.take(0);
  }

  /**
   * #drain gives the requests in flight a moment (DRAIN_MS at most) to be answered, as the UDP
   * loop does: the replies that come then are late (their latency counts, not their number), and
   * the requests still unanswered are lost. (An echo's bytes in flight are not counted.)
   */
  async #drain(): Promise<void> {
    const deadline = performance.now() + Math.min(this.#plan.lossTimeout, DRAIN_MS);
    const waiting = (): boolean => this.#clients.some((c) => c.isOpen && c.outstanding > 0);
    const counters = (): Counters => this.#tally.counters; // a sample may replace them meanwhile
    const before = counters().messages;
    while (waiting() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const late = counters().messages - before;
    counters().messages -= late;
    counters().late += late;
    for (const client of this.#clients) if (client.isOpen) counters().lost += client.outstanding;
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
    const ring = this.#ring as MessageRing;
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

/** EchoClient is one echo connection: what came back must be exactly the bytes it sent. */
class EchoClient extends StreamConnection {
  readonly #ring: MessageRing;
  /** The ring message this connection starts at, so connections send different bytes. */
  readonly #first: number;
  #received = 0;
  #lastBad = -1;

  constructor(load: StreamHost, ring: MessageRing, socket: Socket, id: number) {
    super(load, socket, id);
    this.#ring = ring;
    this.#first = id % ring.count;
  }

  protected message(n: number): Buffer {
    return this.#ring.message(this.#first + n);
  }

  /**
   * onData checks and counts `length` bytes read into `chunk`, and sends one message per echo
   * completed (closed loop). Bytes beyond what was sent (before the run starts, nothing was) fail
   * the connection as a protocol error: the echoes they complete would each send another message,
   * and a server that sends without reading would pile them up in memory without end.
   */
  onData(chunk: Buffer, length: number): void {
    if (this.isFailed || this.load.stopped) return;
    const owed = this.sent * this.#ring.size - this.#received;
    const used = Math.min(length, owed);
    if (used > 0) this.#check(chunk, used);
    if (length > owed) this.fail('protocol');
  }

  /** #check counts `length` echoed bytes at the start of `chunk`, all of them owed. */
  #check(chunk: Buffer, length: number): void {
    const now = performance.now();
    const ring = this.#ring;
    const counters = this.load.tally.counters;
    const offset = this.#first * ring.size + this.#received;
    if (!ring.matches(chunk, offset, length)) {
      const { bad, last } = ring.badMessages(chunk.subarray(0, length), offset, this.#first + this.#lastBad);
      counters.mismatches += Math.max(bad, 1);
      this.#lastBad = last - this.#first;
    }
    this.#received += length;
    counters.bytes += length;
    const done = Math.floor(this.#received / ring.size);
    if (done > this.completed) this.answered(done - this.completed, now);
  }
}
