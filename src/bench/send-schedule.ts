/**
 * SendSchedule is one connection's (or UDP peer's) open-loop timetable: the run's rate spread evenly
 * over the connections, each offset by its share of a period, so the sends of all connections
 * interleave. Latency is measured from `intended(n)`, when message `n` was due, not from when it
 * could be written: a stalled server shows in every message it delayed (no coordinated omission).
 * The timetable ends with the run: a run stopped late (a busy machine) sends no message that was
 * due after its duration.
 */
import type { LoadPlan } from './load.js';

export class SendSchedule {
  /** Milliseconds between this connection's messages; 0 in the closed loop. */
  readonly period: number = 0;
  /** When this connection's first message is due, after the start, in milliseconds. */
  readonly #phase: number = 0;
  /** How many messages the timetable holds: those due before the run's duration is up. */
  readonly #total: number = 0;
  #startedAt = 0;

  /** The schedule of connection `id` (its number across the run) under `plan`. */
  constructor(plan: LoadPlan, id: number) {
    if (plan.rate > 0) {
      this.period = (1000 * plan.connections) / plan.rate;
      this.#phase = ((id - plan.firstConnection) * 1000) / plan.rate;
      this.#total = Math.max(0, Math.ceil((plan.duration - this.#phase) / this.period));
    }
  }

  /** isOpenLoop is true when messages go out on the timetable rather than one per answer. */
  get isOpenLoop(): boolean {
    return this.period > 0;
  }

  /** start sets the timetable's origin. */
  start(now: number): void {
    this.#startedAt = now;
  }

  /** due is how many messages should have been sent by `now` (open loop), at most the timetable's total. */
  due(now: number): number {
    return Math.min(this.#total, Math.floor((now - this.#startedAt - this.#phase) / this.period) + 1);
  }

  /** intended is when message `n` was due (open loop). */
  intended(n: number): number {
    return this.#startedAt + this.#phase + n * this.period;
  }
}
