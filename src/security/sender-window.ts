/**
 * SenderWindow counts, per sender, what happened in the current one-second window: the shared
 * bookkeeping of the UDP limits (datagrams per second in DatagramGuard, replies per second in
 * ReplyBudget). Fixed windows, not sliding ones: a sender gets at most its budget per calendar
 * second of the window, so over T seconds at most budget × (T + 1).
 */

/** MAX_TRACKED_SENDERS is the most senders tracked in one window: past it, `full` is true until the window turns. */
export const MAX_TRACKED_SENDERS = 65_536;

/** WINDOW_MS is the length of one window. */
export const WINDOW_MS = 1000;

/** SenderWindow holds per-sender counts that start again from zero each second. */
export class SenderWindow {
  /** Counts per sender in the current window; cleared as each window starts. */
  readonly #counts = new Map<string, number>();
  #windowStart = 0;

  /**
   * count returns what `sender` has used in the current window (0 for a sender not yet seen),
   * starting a new window first when the last one is over. Memory stays bounded: at most
   * MAX_TRACKED_SENDERS entries, cleared every second.
   */
  count(sender: string): number {
    const now = Date.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      this.#counts.clear();
      this.#windowStart = now;
    }
    return this.#counts.get(sender) ?? 0;
  }

  /** full tells whether a sender not yet seen in this window can no longer be tracked (call `count` first). */
  full(sender: string): boolean {
    return this.#counts.size >= MAX_TRACKED_SENDERS && !this.#counts.has(sender);
  }

  /** add adds `amount` to what `sender` has used in the current window (call `count` first). */
  add(sender: string, amount = 1): void {
    this.#counts.set(sender, (this.#counts.get(sender) ?? 0) + amount);
  }
}
