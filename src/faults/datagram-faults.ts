/**
 * DatagramFaults injects a plan's datagram faults (`loss`, `duplicate`, `delay`, `jitter`) into
 * anything that passes datagrams on: a UDP service, or each direction of a UDP relay.
 */
import type { DatagramService } from '../datagram/serve-packets.js';
import { type FaultCounts, newFaultCounts } from './fault-counts.js';
import { checkFaultPlan, type FaultPlan } from './fault-plan.js';
import { Prng, randomSeed } from './prng.js';

/** DEFAULT_HOLD_LIMIT is how many datagrams may be held back (delayed) at once before more are dropped. */
export const DEFAULT_HOLD_LIMIT = 4096;

/**
 * DEFAULT_HOLD_BYTES is how many bytes of datagrams may be held back at once before more are
 * dropped: 16 MiB, a 100 ms delay at about 1.3 Gbit/s. Without it, 4,096 datagrams of 64 KiB
 * would hold 256 MiB.
 */
export const DEFAULT_HOLD_BYTES = 16 * 1024 * 1024;

/** DatagramFaultsOptions tune DatagramFaults. */
export interface DatagramFaultsOptions {
  /** Where to count what is injected; new counts by default. */
  readonly counts?: FaultCounts | undefined;
  /** Aborting it closes the DatagramFaults: what is held back is dropped, and nothing more passes. */
  readonly signal?: AbortSignal | undefined;
  /** Datagrams held back at once past which new ones are dropped (counted as overflowed). Default 4096. */
  readonly holdLimit?: number | undefined;
  /**
   * Bytes held back at once past which new datagrams are dropped (counted as overflowed); a
   * datagram's size is its `byteLength` (0 for a value that has none). Default 16 MiB.
   */
  readonly holdBytes?: number | undefined;
  /** onError is told of an error thrown by a delivery made later (a delayed one); the datagram is lost. */
  readonly onError?: ((err: unknown) => void) | undefined;
}

/**
 * DatagramFaults decides the fate of each datagram, in order, from one seeded generator: it is
 * lost with probability `loss`; otherwise it is delivered, and delivered a second time with
 * probability `duplicate`; each copy after `delay` varied by up to `jitter` either way, so
 * datagrams may overtake each other as on a network. Every datagram draws the same four numbers
 * whatever the plan, so with the same seed the n-th datagram meets the same fate.
 *
 * Memory stays bounded: past `holdLimit` datagrams or `holdBytes` bytes held back, new ones are
 * dropped. `close()` (or the signal) clears every timer.
 */
export class DatagramFaults {
  readonly plan: FaultPlan;
  /** The seed of every decision: the plan's, or a random one (report it, so the run can be repeated). */
  readonly seed: number;
  readonly counts: FaultCounts;
  readonly #prng: Prng;
  /** Each datagram held back: its timer, and its size. */
  readonly #held = new Map<NodeJS.Timeout, number>();
  #heldBytes = 0;
  readonly #holdLimit: number;
  readonly #holdBytes: number;
  readonly #onError: (err: unknown) => void;
  #closed = false;

  /** The constructor checks `plan` (throws UsageError naming the option when a value cannot work). */
  constructor(plan: FaultPlan, options: DatagramFaultsOptions = {}) {
    this.plan = checkFaultPlan(plan);
    this.seed = plan.seed ?? randomSeed();
    this.counts = options.counts ?? newFaultCounts();
    this.#prng = new Prng(this.seed);
    this.#holdLimit = options.holdLimit ?? DEFAULT_HOLD_LIMIT;
    this.#holdBytes = options.holdBytes ?? DEFAULT_HOLD_BYTES;
    this.#onError = options.onError ?? ignore;
    const { signal } = options;
    if (signal?.aborted) this.close();
    signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** held is how many datagrams are waiting for their delay. */
  get held(): number {
    return this.#held.size;
  }

  /** heldBytes is how many bytes of datagrams are waiting for their delay. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * pass decides the fate of one datagram and calls `deliver` with it zero, one or two times, at
   * once or later. A `deliver` that throws at once throws to the caller; later, to `onError`.
   */
  pass<T>(datagram: T, deliver: (datagram: T) => void): void {
    const { loss = 0, duplicate = 0, delay = 0, jitter = 0 } = this.plan;
    const lost = this.#prng.chance(loss);
    const twice = this.#prng.chance(duplicate);
    const spreads = [this.#prng.between(-jitter, jitter), this.#prng.between(-jitter, jitter)];
    if (this.#closed) return;
    if (lost) {
      this.counts.datagramsLost += 1;
      return;
    }
    if (twice) this.counts.datagramsDuplicated += 1;
    for (const spread of twice ? spreads : spreads.slice(0, 1)) {
      const wait = delay === 0 && jitter === 0 ? 0 : Math.max(0, delay + spread);
      if (wait === 0) {
        deliver(datagram);
        continue;
      }
      const size = ArrayBuffer.isView(datagram) ? datagram.byteLength : 0;
      if (this.#held.size >= this.#holdLimit || this.#heldBytes + size > this.#holdBytes) {
        this.counts.datagramsOverflowed += 1;
        continue;
      }
      this.counts.datagramsDelayed += 1;
      const timer = setTimeout(() => {
        this.#held.delete(timer);
        this.#heldBytes -= size;
        try {
          deliver(datagram);
        } catch (err) {
          this.#onError(err);
        }
      }, wait);
      this.#held.set(timer, size);
      this.#heldBytes += size;
    }
  }

  /**
   * service returns `inner` with these faults between each datagram's arrival and `inner`: a lost
   * datagram never reaches it, a duplicated one reaches it twice, a delayed one later.
   */
  service(inner: DatagramService): DatagramService {
    return (data, peer, conn) => this.pass(data, (datagram) => inner(datagram, peer, conn));
  }

  /** close drops every datagram held back and clears its timer; later datagrams are dropped too. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#held.keys()) clearTimeout(timer);
    this.#held.clear();
    this.#heldBytes = 0;
  }
}

function ignore(): void {}
