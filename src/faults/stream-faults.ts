/**
 * StreamFaults injects a plan's faults into stream connections (TCP, TLS, Unix): into an echo
 * service, or between the two sides of a bridge, as filters on the bridge's `join`.
 */
import { PassThrough } from 'node:stream';
import { join } from '../bridge/join.js';
import { type BridgeSide, connSide, streamSide } from '../bridge/side.js';
import { peerLabel } from '../stream/conn.js';
import type { StreamService } from '../stream/serve.js';
import { type FaultCounts, newFaultCounts } from './fault-counts.js';
import { FaultFilter } from './fault-filter.js';
import { checkFaultPlan, type FaultLimit, type FaultPlan } from './fault-plan.js';
import { ByteBudget } from './fault-stage.js';
import { Prng, randomSeed } from './prng.js';

/** StreamFaultsOptions tune StreamFaults. */
export interface StreamFaultsOptions {
  /** Where to count what is injected; new counts by default (see `counts`). */
  readonly counts?: FaultCounts | undefined;
  /** Bytes each direction holds back before pausing its source. Default 1 MiB (DEFAULT_QUEUE_LIMIT). */
  readonly queueLimit?: number | undefined;
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
   * gets back: the client is joined to a mirror of itself, the faults on the way back. The echo
   * is half-close aware: the client's FIN ends the echo once all that was held back has been
   * delivered.
   */
  readonly echo: StreamService = (conn) => {
    const client = connSide(conn, peerLabel(conn.remoteAddress));
    const mirror = new PassThrough();
    const [toClient] = this.#attach([client], [client]);
    void join(client, streamSide('echo', mirror, mirror, true), { filters: { bToA: toClient } });
  };

  /**
   * filters returns the filters that put the faults on both directions of a bridge between `a`
   * and `b`, for `join` (see JoinFilters): `aToB` delays, throttles and slices what `a` sends,
   * `bToA` what `b` sends; a reset resets both sides, a close half-closes both (what they send
   * later is discarded). A duration limit counts from this call. The filters let go of their
   * timers once `join` is done with them.
   */
  filters(a: BridgeSide, b: BridgeSide): { readonly aToB: FaultFilter; readonly bToA: FaultFilter } {
    const [aToB, bToA] = this.#attach([a, b], [b, a]) as [FaultFilter, FaultFilter];
    return { aToB, bToA };
  }

  /**
   * attach makes one filter delivering to each of `targets`, on the connection made of `sides`,
   * with the connection's byte budgets and limit timers.
   */
  #attach(sides: readonly BridgeSide[], targets: readonly BridgeSide[]): FaultFilter[] {
    const number = this.#connections;
    this.#connections += 1;
    const counts = this.counts;
    const timers: NodeJS.Timeout[] = [];
    const filters: FaultFilter[] = [];
    let cut = false;
    const cutEverything = (endOutput: boolean): boolean => {
      if (cut) return false;
      cut = true;
      for (const timer of timers) clearTimeout(timer);
      for (const filter of filters) filter.cut(endOutput);
      return true;
    };
    // The bridge closes the write side each filter feeds once the filter's output has ended.
    const closeAll = (): void => {
      if (!cutEverything(true)) return;
      counts.closes += 1;
      for (const target of targets) target.note?.('fault: close (FIN) as planned');
    };
    const resetAll = (): void => {
      if (!cutEverything(false)) return;
      counts.resets += 1;
      for (const side of sides) {
        side.note?.('fault: reset (RST) as planned');
        if (side.reset) side.reset();
        else side.close();
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

    let open = targets.length;
    for (const [i, target] of targets.entries()) {
      const filter = new FaultFilter({
        plan: this.plan,
        prng: new Prng(this.seed, number * 2 + i),
        counts,
        budgets,
        queueLimit: this.#queueLimit,
      });
      filters.push(filter);
      // Slices are only seen as slices when each leaves in its own segment: no Nagle.
      if (this.plan.slice) (target.writable as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      filter.once('close', () => {
        open -= 1;
        if (open === 0) for (const timer of timers) clearTimeout(timer);
      });
    }
    for (const action of atOnce) action();
    return filters;
  }
}
