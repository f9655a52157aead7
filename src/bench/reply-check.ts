/**
 * Where a reply ends and whether it is right, for bench's request/response mode. A ReplyReader is
 * one connection's reply parser: bytes in, replies counted and checked out. It runs without a
 * socket, and it never holds more than one reply: a server that floods or sends a reply without
 * end costs at most the largest reply allowed.
 */
import type { Codec } from '../framing/codec.js';
import type { Random, RequestTemplate } from './request-template.js';

/**
 * ReplyEnd says where each reply ends: after `size` bytes, after as many bytes as the expected
 * reply (`expect`), or at the end of a frame of `codec` (`payload`: the check sees the frame's
 * payload, as for a length prefix, rather than its bytes on the wire, as for a line).
 */
export type ReplyEnd =
  | { readonly kind: 'size'; readonly size: number }
  | { readonly kind: 'expect' }
  | { readonly kind: 'frame'; readonly codec: Codec; readonly payload: boolean }
  | { readonly kind: 'datagram' };

/** ReplyCheck is what each reply must be: anything, exactly a template's bytes, or text matching a regular expression. */
export type ReplyCheck =
  | { readonly kind: 'none' }
  | { readonly kind: 'exact'; readonly expect: RequestTemplate }
  | { readonly kind: 'match'; readonly pattern: RegExp };

/** Mismatch is one reply that failed its check; its Buffers are valid only during the call. */
export interface Mismatch {
  readonly connection: number;
  readonly sequence: number;
  readonly received: Buffer;
  readonly expected: Buffer | undefined;
  readonly pattern: RegExp | undefined;
}

/** SAMPLE_BYTES bounds the bytes of each reply a MismatchSample keeps. */
export const SAMPLE_BYTES = 256;

/** mismatchSample keeps `mismatch` to be shown later: its first SAMPLE_BYTES bytes, as hex. */
export function mismatchSample(mismatch: Mismatch): MismatchSample {
  const hex = (bytes: Buffer): string => bytes.subarray(0, SAMPLE_BYTES).toString('hex');
  return {
    connection: mismatch.connection,
    sequence: mismatch.sequence,
    expectedHex: mismatch.expected && hex(mismatch.expected),
    pattern: mismatch.pattern?.source,
    receivedHex: hex(mismatch.received),
    receivedBytes: mismatch.received.length,
  };
}

/** MismatchSample is one reply that failed its check, kept to be shown: bytes as hex (the first SAMPLE_BYTES). */
export interface MismatchSample {
  readonly connection: number;
  /** The reply's number on its connection (that of the request it answers). */
  readonly sequence: number;
  /** The reply expected (exact check), as hex. */
  readonly expectedHex?: string | undefined;
  /** The regular expression it had to match (match check). */
  readonly pattern?: string | undefined;
  /** The reply received, as hex. */
  readonly receivedHex: string;
  /** The reply's length, which may be more than `receivedHex` shows. */
  readonly receivedBytes: number;
}

/** noRandom is the Random given to expected-reply templates, which may not hold `{rand}`. */
const noRandom: Random = () => 0;

/**
 * ReplyReader reads one connection's replies, in order: reply `n` answers request `n`.
 * `onMismatch` is called for each reply that fails the check.
 */
export class ReplyReader {
  readonly #end: ReplyEnd;
  readonly #check: ReplyCheck;
  readonly #connection: number;
  readonly #onMismatch: (mismatch: Mismatch) => void;
  /** The number of the reply being read. */
  #index = 0;
  // A fixed-size reply under way: its size (0 between replies), bytes so far, expected bytes,
  // whether it is already known bad, and its bytes when they must be kept (a match check, a bad reply).
  #size = 0;
  #got = 0;
  #expected: Buffer | undefined;
  #bad = false;
  #held: Buffer | undefined;
  /** Frame mode: the start of a frame not yet complete (a copy; the caller's buffer is reused). */
  #pending: Buffer | undefined;

  constructor(
    end: ReplyEnd,
    check: ReplyCheck,
    connection: number,
    onMismatch: (mismatch: Mismatch) => void,
  ) {
    if (end.kind === 'expect' && check.kind !== 'exact')
      throw new RangeError('a reply can end at the length of the expected reply only with an exact check');
    this.#end = end;
    this.#check = check;
    this.#connection = connection;
    this.#onMismatch = onMismatch;
  }

  /** overrun is true once bytes came that no request asked for: the connection is beyond repair. */
  overrun = false;

  /** replies is how many replies were read whole. */
  get replies(): number {
    return this.#index;
  }

  /**
   * consume reads the first `length` bytes of `chunk` (which it does not keep) while `outstanding`
   * replies are owed, and returns how many replies it completed; `overrun` is set when bytes came beyond
   * the replies owed. Throws FrameTooLargeError for a frame over the codec's maximum.
   */
  consume(chunk: Buffer, length: number, outstanding: number): number {
    if (this.#end.kind === 'datagram')
      throw new RangeError('a datagram reply is checked whole (checkDatagram)');
    return this.#end.kind === 'frame'
      ? this.#consumeFrames(this.#end.codec, this.#end.payload, chunk, length, outstanding)
      : this.#consumeSized(chunk, length, outstanding);
  }

  /**
   * checkDatagram checks `reply`, one whole datagram, as the answer to request `sequence` (with a
   * reply size, its length must be that size).
   */
  checkDatagram(reply: Buffer, sequence: number): void {
    this.#index = sequence;
    if (this.#end.kind === 'size' && reply.length !== this.#end.size) this.#mismatch(reply, undefined);
    else this.#checkWhole(reply);
    this.#index = sequence + 1;
  }

  #consumeSized(chunk: Buffer, length: number, outstanding: number): number {
    let at = 0;
    let done = 0;
    while (at < length) {
      if (done >= outstanding) {
        this.overrun = true;
        return done;
      }
      if (this.#size === 0) this.#begin();
      const take = Math.min(this.#size - this.#got, length - at);
      const expected = this.#expected;
      if (
        expected &&
        !this.#bad &&
        expected.compare(chunk, at, at + take, this.#got, this.#got + take) !== 0
      ) {
        this.#bad = true;
        this.#held = Buffer.alloc(this.#size);
        expected.copy(this.#held, 0, 0, this.#got); // what came so far matched
      }
      if (this.#held) chunk.copy(this.#held, this.#got, at, at + take);
      this.#got += take;
      at += take;
      if (this.#got < this.#size) break;
      const held = this.#held;
      if (this.#check.kind === 'match' && held)
        this.#bad = !this.#check.pattern.test(held.toString('latin1'));
      if (this.#bad && held) this.#mismatch(held, expected);
      this.#size = 0;
      this.#index += 1;
      done += 1;
    }
    return done;
  }

  /** #begin starts reading reply #index: its size, and what it must be. */
  #begin(): void {
    const check = this.#check;
    this.#expected =
      check.kind === 'exact' ? check.expect.render(this.#connection, this.#index, noRandom) : undefined;
    this.#size = this.#end.kind === 'size' ? this.#end.size : (this.#expected?.length ?? 0);
    this.#got = 0;
    this.#bad = false;
    this.#held = check.kind === 'match' ? Buffer.alloc(this.#size) : undefined;
    if (this.#size === 0) throw new RangeError('a reply cannot be empty');
  }

  #consumeFrames(codec: Codec, payload: boolean, chunk: Buffer, length: number, outstanding: number): number {
    const bytes = this.#pending
      ? Buffer.concat([this.#pending, chunk.subarray(0, length)])
      : chunk.subarray(0, length);
    this.#pending = undefined;
    let at = 0;
    let done = 0;
    while (at < bytes.length) {
      if (done >= outstanding) {
        this.overrun = true;
        return done;
      }
      const decoded = codec.decode(at === 0 ? bytes : bytes.subarray(at));
      if (!decoded) {
        this.#pending = Buffer.from(bytes.subarray(at)); // a copy: `chunk` is reused for the next read
        break;
      }
      this.#checkWhole(payload ? decoded.frame : bytes.subarray(at, at + decoded.used));
      at += decoded.used;
      this.#index += 1;
      done += 1;
    }
    return done;
  }

  /** #checkWhole checks a reply read whole. */
  #checkWhole(reply: Buffer): void {
    const check = this.#check;
    if (check.kind === 'exact') {
      const expected = check.expect.render(this.#connection, this.#index, noRandom);
      if (!expected.equals(reply)) this.#mismatch(reply, expected);
    } else if (check.kind === 'match' && !check.pattern.test(reply.toString('latin1'))) {
      this.#mismatch(reply, undefined);
    }
  }

  #mismatch(received: Buffer, expected: Buffer | undefined): void {
    this.#onMismatch({
      connection: this.#connection,
      sequence: this.#index,
      received,
      expected,
      pattern: this.#check.kind === 'match' ? this.#check.pattern : undefined,
    });
  }
}
