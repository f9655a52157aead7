/**
 * EmfileBackoff decides how long a server stops admitting connections after accept failed for
 * want of file descriptors (EMFILE, ENFILE). Node's event loop (libuv) already accepts and closes
 * the waiting connections so that it does not spin; pausing on top of that gives the process time
 * to close some. It only keeps time: the caller refuses and reports.
 */

/** FIRST_PAUSE is the first pause after an accept failure, in ms. */
export const FIRST_PAUSE = 50;
/** LONGEST_PAUSE is the longest pause, in ms, however long the shortage lasts. */
export const LONGEST_PAUSE = 5000;

/** EmfileBackoff is one server's (or one guard's) pause: it doubles while failures keep coming, up to LONGEST_PAUSE. */
export class EmfileBackoff {
  readonly #now: () => number;
  #pausedUntil = 0;
  #pause = FIRST_PAUSE;
  #lastFailure = 0;

  /** The constructor takes the clock, in ms (Date.now unless a test supplies its own). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** paused tells whether admitting is paused now. It reads the clock only while a pause is set. */
  paused(): boolean {
    if (this.#pausedUntil === 0) return false;
    if (this.#now() < this.#pausedUntil) return true;
    this.#pausedUntil = 0;
    return false;
  }

  /**
   * failed records one accept failure. It returns the pause it starts, in ms, or undefined when a
   * pause is already running (that failure only lengthens the next one).
   */
  failed(): number | undefined {
    const now = this.#now();
    // Back off harder while the shortage lasts; start again small after a quiet spell.
    this.#pause =
      now - this.#lastFailure < 2 * this.#pause + 1000
        ? Math.min(this.#pause * 2, LONGEST_PAUSE)
        : FIRST_PAUSE;
    this.#lastFailure = now;
    if (now < this.#pausedUntil) return undefined;
    this.#pausedUntil = now + this.#pause;
    return this.#pause;
  }
}
