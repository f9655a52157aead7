/**
 * FaultFilter is a FaultStage in the shape of a bridge filter (see JoinFilters): the bytes
 * written to it come out of its readable side late, slowly, in slices, or not at all.
 */
import { Duplex } from 'node:stream';
import { FaultStage, type FaultStageOptions } from './fault-stage.js';

/**
 * FaultFilter passes what is written to it through a FaultStage to its readable side. A piece
 * counts as delivered (for the byte budgets, and for the next slice) only once whoever reads
 * the filter has taken it: its readable side holds nothing (high-water mark 0), so a reader that
 * pauses (a full socket downstream) holds the stage, whose queue limit then holds the writer.
 *
 * `cut(true)` stops the stage and ends the readable side (the bridge then closes the write side
 * of what it feeds: a FIN); `cut(false)` only stops it. What is written after a cut is
 * discarded. It never emits 'error'.
 */
export class FaultFilter extends Duplex {
  readonly #stage: FaultStage;
  /** The stage's callback for the piece the reader has not taken yet. */
  #delivered: (() => void) | undefined;
  #outputEnded = false;

  /** The constructor makes the stage with `options` (its sink is this filter's readable side). */
  constructor(options: Omit<FaultStageOptions, 'endSink'>) {
    super({ readableHighWaterMark: 0, allowHalfOpen: true });
    this.#stage = new FaultStage(
      { write: (piece, callback) => this.#deliver(piece, callback), end: () => this.#endOutput() },
      options,
    );
  }

  /** isCut is true once the filter has been cut: it passes nothing more. */
  get isCut(): boolean {
    return this.#stage.isCut;
  }

  /** cut stops the filter for good (see FaultStage.cut); with `endOutput`, its readable side ends too. */
  cut(endOutput: boolean): void {
    this.#stage.cut();
    if (endOutput) this.#endOutput();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#stage.write(chunk)) callback();
    else this.#stage.once('drain', () => callback());
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#stage.end(() => callback());
  }

  override _read(): void {
    const delivered = this.#delivered;
    this.#delivered = undefined;
    delivered?.();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#stage.destroy();
    callback(err);
  }

  #deliver(piece: Buffer, callback: (err?: Error | null) => void): boolean {
    if (this.#outputEnded) {
      queueMicrotask(callback);
      return true;
    }
    // Taken at once by a flowing reader: delivered. Otherwise once the reader asks for more.
    // A microtask, not a call: the stage would recurse through every piece it holds.
    if (this.push(piece)) queueMicrotask(callback);
    else this.#delivered = () => callback();
    return true;
  }

  #endOutput(): void {
    if (this.#outputEnded) return;
    this.#outputEnded = true;
    this.push(null);
  }
}
