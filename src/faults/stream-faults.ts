/**
 * StreamFaults injects a plan's faults into stream connections (TCP, TLS, Unix): into an echo
 * service, or between the two connections of a relay (`join`), one FaultStage per direction.
 */
import type { Socket } from 'node:net';
import { traceStep } from '../internal.js';
import { tlsParentSocket } from '../node-internals.js';
import { type Conn, peerLabel } from '../stream/conn.js';
import type { StreamService } from '../stream/serve.js';
import { type FaultCounts, newFaultCounts } from './fault-counts.js';
import { checkFaultPlan, type FaultLimit, type FaultPlan } from './fault-plan.js';
import { ByteBudget, type FaultSink, FaultStage } from './fault-stage.js';
import { Prng, randomSeed } from './prng.js';

/** StreamFaultsOptions tune StreamFaults. */
export interface StreamFaultsOptions {
  /** Where to count what is injected; new counts by default (see `counts`). */
  readonly counts?: FaultCounts | undefined;
  /** Bytes each direction holds back before pausing its source. Default 1 MiB (DEFAULT_QUEUE_LIMIT). */
  readonly queueLimit?: number | undefined;
}

/** JoinOptions tune `StreamFaults.join`. */
export interface JoinOptions {
  /** Aborting it closes both connections at once; `join` then resolves. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * StreamFaults holds a plan, its seed and its counts for every connection of one server or relay.
 * Each connection draws from its own generators, seeded from the plan's seed and the
 * connection's number, so a run with the same seed and the same traffic makes the same decisions.
 *
 * What the faults mean on a connection:
 * - `delay`/`jitter`, `throttle` and `slice` act on each direction separately;
 * - `closeAfter` in bytes passes exactly that many bytes (both directions together), then
 *   half-closes every side (FIN); later bytes from the peers are read and discarded;
 * - `resetAfter` in bytes passes that many bytes, then resets every side (TCP RST; bytes still in
 *   flight may be lost, as with a real reset). A Unix socket, or the client side of TLS, has no
 *   reset to send: it is closed abruptly instead;
 * - either as a duration counts from when the connection is attached.
 */
export class StreamFaults {
  readonly plan: FaultPlan;
  /** The seed of every decision: the plan's, or a random one (report it, so the run can be repeated). */
  readonly seed: number;
  readonly counts: FaultCounts;
  readonly #queueLimit: number | undefined;
  #connections = 0;

  /** The constructor checks `plan` (throws UsageError naming the option when a value cannot work). */
  constructor(plan: FaultPlan, options: StreamFaultsOptions = {}) {
    this.plan = checkFaultPlan(plan);
    this.seed = plan.seed ?? randomSeed();
    this.counts = options.counts ?? newFaultCounts();
    this.#queueLimit = options.queueLimit;
  }

  /**
   * echo is the echo service (RFC 862) with the faults between what a client sends and what it
   * gets back. The echo is half-close aware: the client's FIN ends the echo once all that was
   * held back has been delivered.
   */
  readonly echo: StreamService = (conn) => {
    this.#attach([conn], [[conn, conn]]);
  };

  /**
   * join copies `a` to `b` and `b` to `a` through the faults until both are closed, and resolves
   * then. A side's FIN is passed on (after what the faults hold back); a side that fails or is
   * closed without FIN closes the other at once. It never rejects: a failure is in the Conn's
   * `error`.
   */
  join(a: Conn, b: Conn, options: JoinOptions = {}): Promise<void> {
    this.#attach(
      [a, b],
      [
        [a, b],
        [b, a],
      ],
    );
    const { signal } = options;
    const onAbort = (): void => {
      a.close();
      b.close();
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    return Promise.all([a.closed, b.closed]).then(() => signal?.removeEventListener('abort', onAbort));
  }

  /** attach puts a stage on each direction (from → to) of the connection made of `conns`. */
  #attach(conns: readonly Conn[], directions: readonly (readonly [Conn, Conn])[]): void {
    const number = this.#connections;
    this.#connections += 1;
    const counts = this.counts;
    const timers: NodeJS.Timeout[] = [];
    const stages: FaultStage[] = [];
    let cut = false;
    const cutEverything = (): boolean => {
      if (cut) return false;
      cut = true;
      for (const timer of timers) clearTimeout(timer);
      for (const stage of stages) stage.cut();
      return true;
    };
    const closeAll = (): void => {
      if (!cutEverything()) return;
      counts.closes += 1;
      for (const conn of conns) {
        conn[traceStep]('note', { detail: 'fault: close (FIN) as planned' });
        void conn.closeWrite();
      }
    };
    const resetAll = (): void => {
      if (!cutEverything()) return;
      counts.resets += 1;
      for (const conn of conns) {
        conn[traceStep]('note', { detail: 'fault: reset (RST) as planned' });
        resetSocket(conn.socket);
      }
    };
    const budgets: ByteBudget[] = [];
    const atOnce: (() => void)[] = [];
    const limit = (value: FaultLimit | undefined, action: () => void): void => {
      if (value === undefined) return;
      if ('bytes' in value) {
        budgets.push(new ByteBudget(value.bytes, action));
        if (value.bytes === 0) atOnce.push(action);
      } else {
        timers.push(setTimeout(action, value.ms));
      }
    };
    // A reset before a close: when both fall on the same byte, the harsher fault is the one asked for.
    limit(this.plan.resetAfter, resetAll);
    limit(this.plan.closeAfter, closeAll);

    for (const [i, [from, to]] of directions.entries()) {
      const sink: FaultSink = {
        write: (chunk, callback) => {
          if (to.tracing)
            to[traceStep]('sent', { bytes: chunk.length, address: peerLabel(to.remoteAddress), data: chunk });
          return to.socket.write(chunk, callback);
        },
        end: () => to.closeWrite(),
      };
      const stage = new FaultStage(sink, {
        plan: this.plan,
        prng: new Prng(this.seed, number * 2 + i),
        counts,
        budgets,
        queueLimit: this.#queueLimit,
      });
      stages.push(stage);
      // Slices are only seen as slices when each leaves in its own segment: no Nagle.
      if (this.plan.slice) to.socket.setNoDelay?.(true);
      from.onData((chunk) => {
        if (!stage.write(chunk)) {
          from.pause();
          stage.once('drain', () => from.resume());
        }
      });
      // The connection may have ended, or closed, before it was attached (a slow dial upstream).
      if (from.socket.readableEnded) stage.end();
      else from.socket.once('end', () => stage.end());
    }

    let open = conns.length;
    for (const conn of conns) {
      const onClose = (): void => {
        open -= 1;
        // Nothing more can reach this side; a side gone without its FIN takes the others with it.
        for (const [i, [from, to]] of directions.entries()) {
          if (to === conn) stages[i]?.destroy();
          if (from === conn && !conn.socket.readableEnded) to.close();
        }
        if (open === 0) {
          for (const timer of timers) clearTimeout(timer);
          for (const stage of stages) stage.destroy();
        }
      };
      if (conn.socket.destroyed) queueMicrotask(onClose);
      else conn.socket.once('close', onClose);
    }
    for (const action of atOnce) action();
  }
}

/**
 * resetSocket sends a TCP RST and destroys `socket`. A server-side TLS socket is reset through
 * the TCP socket it wraps; a socket with no TCP handle of its own (Unix, client-side TLS) is
 * destroyed, the closest it has.
 */
export function resetSocket(socket: Socket): void {
  const tcp = tlsParentSocket(socket) ?? socket;
  try {
    if (!tcp.destroyed) tcp.resetAndDestroy();
  } catch {
    // ERR_INVALID_HANDLE_TYPE: not a TCP handle.
  }
  socket.destroy();
}
