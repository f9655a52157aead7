/**
 * The WebSocket load loop (ws, wss): many connections, each keeping `depth` binary messages in
 * flight (closed loop), sending on a fixed schedule (open loop), or opening a new connection per
 * message (reconnect). Each message that comes back must be the next one sent, byte for byte and
 * of the same length; a message nobody sent fails that connection (a protocol error).
 */
import { performance } from 'node:perf_hooks';
import type { WebSocketAddress } from '../address.js';
import type { SockkitError } from '../errors.js';
import { dialWebSocket } from '../websocket/dial-websocket.js';
import type { WebSocketConn, WebSocketMessage } from '../websocket/websocket-conn.js';
import { recordMs } from './latency.js';
import {
  type ConnectOutcome,
  type ErrorKind,
  errorKindOf,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  Tally,
} from './load.js';
import type { MessageRing } from './payload.js';
import { SendSchedule } from './send-schedule.js';
import { ringFor } from './stream-load.js';

/** How many connects run at once while opening connections. */
const CONNECT_BATCH = 128;

/** WebSocketLoad drives WebSocket connections; see LoadEngine for the life cycle. */
export class WebSocketLoad implements LoadEngine {
  readonly plan: LoadPlan;
  readonly ring: MessageRing;
  readonly tally = new Tally();
  readonly #clients: WebSocketClient[] = [];
  readonly #address: WebSocketAddress;
  running = false;
  stopped = false;
  #open = 0;
  #onIdle: (() => void) | undefined;
  #ticker: NodeJS.Timeout | undefined;
  /** Reconnect mode: connections of the current round, to close at stop. */
  readonly #cycling = new Set<WebSocketConn>();

  constructor(plan: LoadPlan) {
    this.plan = plan;
    this.ring = ringFor(plan.size);
    this.#address = plan.address as WebSocketAddress;
  }

  #dial(): Promise<WebSocketConn> {
    const { tls, ws } = this.plan;
    return dialWebSocket(this.#address, { tls, ws, timeout: this.plan.connectTimeout });
  }

  async connect(): Promise<ConnectOutcome> {
    let opened = 0;
    let error: SockkitError | undefined;
    const count = this.plan.reconnect ? 1 : this.plan.connections;
    for (let first = 0; first < count; first += CONNECT_BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(count, first + CONNECT_BATCH); i += 1) {
        batch.push(
          this.#dial().then(
            (conn) => {
              opened += 1;
              if (this.plan.reconnect) void conn.close();
              else this.#clients.push(new WebSocketClient(this, conn, this.plan.firstConnection + i));
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
    if (this.plan.reconnect && opened > 0) return { opened: this.plan.connections, error };
    return { opened, error };
  }

  start(onIdle?: () => void): void {
    this.running = true;
    const now = performance.now();
    if (this.plan.reconnect) {
      for (let i = 0; i < this.plan.connections; i += 1) this.#cycle(this.plan.firstConnection + i);
      return;
    }
    this.#onIdle = onIdle;
    this.#open = this.#clients.length;
    if (this.#open === 0) queueMicrotask(() => this.#idle());
    for (const client of this.#clients) client.start(now);
    if (this.plan.rate > 0) {
      this.#ticker = setInterval(() => {
        const at = performance.now();
        for (const client of this.#clients) client.sendDue(at);
      }, 1);
    }
  }

  sample(): Promise<LoadSample> {
    return Promise.resolve(this.tally.take(this.plan.reconnect ? this.plan.connections : this.#open));
  }

  stop(): Promise<LoadSample> {
    this.running = false;
    this.stopped = true;
    clearInterval(this.#ticker);
    for (const client of this.#clients) client.conn.terminate();
    for (const conn of this.#cycling) conn.terminate();
    return Promise.resolve(this.tally.take(0));
  }

  /** recordError counts one failed connection of `kind`, unless the run has stopped. */
  recordError(kind: ErrorKind): void {
    if (!this.stopped) this.tally.counters.errors[kind] += 1;
  }

  /** connectionFailed counts a connection that failed while open, and ends the run when none is left. */
  connectionFailed(kind: ErrorKind): void {
    this.recordError(kind);
    this.#open -= 1;
    if (this.#open === 0 && this.running) this.#idle();
  }

  #idle(): void {
    const onIdle = this.#onIdle;
    this.#onIdle = undefined;
    onIdle?.();
  }

  /** #cycle is one reconnect-mode round: connect, send one message, check its echo, close, repeat. */
  #cycle(id: number): void {
    if (!this.running) return;
    const began = performance.now();
    const message = this.ring.message(id);
    const offset = (id % this.ring.count) * this.ring.size;
    const again = (failure?: ErrorKind): void => {
      if (!this.running) return;
      if (failure) this.recordError(failure);
      // A failed round retries on a later turn of the loop, never in a tight loop.
      if (failure) setTimeout(() => this.#cycle(id), 10);
      else setImmediate(() => this.#cycle(id));
    };
    void this.#dial().then(
      async (conn) => {
        this.#cycling.add(conn);
        try {
          conn.write(message, { binary: true });
          const echo = await conn.read();
          if (!echo) return again(conn.error ? errorKindOf(conn.error) : 'closed');
          const counters = this.tally.counters;
          if (echo.data.length !== this.ring.size || !this.ring.matches(echo.data, offset))
            counters.mismatches += 1;
          counters.bytes += echo.data.length;
          await conn.close();
          recordMs(this.tally.histogram, performance.now() - began);
          counters.messages += 1;
          counters.connects += 1;
          again();
        } catch (err) {
          again(errorKindOf(err));
        } finally {
          this.#cycling.delete(conn);
          conn.terminate();
        }
      },
      (err: unknown) => again(errorKindOf(err)),
    );
  }
}

/** WebSocketClient is one connection's state: what it sent, when, and what came back. */
class WebSocketClient {
  readonly conn: WebSocketConn;
  readonly #load: WebSocketLoad;
  /** The ring message this connection starts at, so connections send different bytes. */
  readonly #first: number;
  readonly #sentAt: Float64Array;
  #sent = 0;
  #completed = 0;
  #failed = false;
  readonly #schedule: SendSchedule;

  constructor(load: WebSocketLoad, conn: WebSocketConn, id: number) {
    this.#load = load;
    this.conn = conn;
    this.#first = id % load.ring.count;
    const plan = load.plan;
    this.#sentAt = new Float64Array(plan.rate > 0 ? 1 : plan.depth);
    this.#schedule = new SendSchedule(plan, id);
    conn.onMessage((message) => this.#onMessage(message));
    void conn.closed.then(() => {
      if (!this.#load.stopped) this.#fail(conn.error ? errorKindOf(conn.error) : 'closed');
    });
  }

  start(now: number): void {
    this.#schedule.start(now);
    if (this.#schedule.isOpenLoop) {
      this.sendDue(now);
      return;
    }
    for (let i = 0; i < this.#load.plan.depth; i += 1) this.#send(now);
  }

  /** sendDue sends the open-loop messages whose time has come, while the socket has room. */
  sendDue(now: number): void {
    if (this.#failed) return;
    const due = this.#schedule.due(now);
    while (this.#sent < due && this.#send(now));
  }

  /** #send sends the next message; false when the socket holds more than it should take now. */
  #send(now: number): boolean {
    this.#sentAt[this.#sent % this.#sentAt.length] = now;
    const room = this.conn.write(this.#load.ring.message(this.#first + this.#sent), { binary: true });
    this.#sent += 1;
    return room;
  }

  #onMessage(message: WebSocketMessage): void {
    const load = this.#load;
    if (this.#failed || load.stopped) return;
    // A message beyond those sent: the server sends what it was never sent.
    if (this.#completed >= this.#sent) {
      this.#fail('protocol');
      return;
    }
    const ring = load.ring;
    const counters = load.tally.counters;
    const index = this.#first + this.#completed;
    if (message.data.length !== ring.size || !ring.matches(message.data, (index % ring.count) * ring.size))
      counters.mismatches += 1;
    counters.bytes += message.data.length;
    counters.messages += 1;
    const now = performance.now();
    const sentAt = this.#schedule.isOpenLoop
      ? this.#schedule.intended(this.#completed)
      : (this.#sentAt[this.#completed % this.#sentAt.length] as number);
    recordMs(load.tally.histogram, now - sentAt);
    this.#completed += 1;
    if (!this.#schedule.isOpenLoop && load.running) this.#send(now);
  }

  #fail(kind: ErrorKind): void {
    if (this.#failed) return;
    this.#failed = true;
    this.conn.terminate();
    this.#load.connectionFailed(kind);
  }
}
