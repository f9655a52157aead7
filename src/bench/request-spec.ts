/**
 * RequestSpec is what bench's request/response mode sends and expects, as plain data (it crosses
 * to worker threads); RequestProtocol is the same compiled once per load loop: the bytes of each
 * request, framed, and a reply reader per connection.
 */
import { optionError } from '../errors.js';
import type { Codec } from '../framing/codec.js';
import { codecFor, type FrameName, type Framing, isTextFraming } from '../framing/frame-names.js';
import { xorshift } from './payload.js';
import { type Mismatch, type ReplyCheck, type ReplyEnd, ReplyReader } from './reply-check.js';
import { type Random, RequestTemplate } from './request-template.js';

/** MAX_REPLY_SIZE bounds `replySize`: a reply being checked is held whole. */
export const MAX_REPLY_SIZE = 64 << 20;

/**
 * RequestSpec describes the requests and the replies of a request/response run. Requests and the
 * expected reply are bytes that may hold substitutions (see SUBSTITUTIONS); `expect` may not use
 * `{rand}`. A reply ends after `replySize` bytes, at the end of a frame (the run's `frame`), or
 * after as many bytes as `expect`: exactly one of these must say. Over UDP each datagram is one
 * reply, whole.
 */
export interface RequestSpec {
  /** The requests, sent in turn on each connection (request `n` is `requests[n % length]`). */
  readonly requests: readonly Uint8Array[];
  /** Each reply must be exactly these bytes (with a length-prefix frame: this payload). */
  readonly expect?: Uint8Array | undefined;
  /** Each reply, read as Latin-1 text, must match this regular expression (its source). */
  readonly expectMatch?: string | undefined;
  /** Each reply is this many bytes. */
  readonly replySize?: number | undefined;
  /** With `frame`: the largest frame accepted in a reply, in bytes. Default 64 KiB (len8: 255, len16: 65535). */
  readonly maxFrame?: number | undefined;
}

/** RequestProtocol is a RequestSpec compiled for one load loop. */
export class RequestProtocol {
  readonly #templates: readonly RequestTemplate[];
  /** Requests without substitutions, framed once (undefined where a request varies). */
  readonly #fixed: readonly (Buffer | undefined)[];
  readonly #frame: ((payload: Buffer) => Buffer) | undefined;
  readonly #end: ReplyEnd;
  readonly #check: ReplyCheck;
  readonly #random: Random;

  /**
   * The spec `spec` for a run framed as `framing` says (none: replies end by size or `expect`).
   * Throws UsageError (op `bench`, naming the option) when the spec cannot work: no request, no
   * way to tell where a reply ends, a bad expression, a delimiter framing without its delimiter.
   */
  constructor(spec: RequestSpec, framing: Framing | undefined, datagram = false, seed = 0x9e3779b9) {
    const op = 'bench';
    const frame = framing?.frame;
    if (spec.requests.length === 0) throw optionError(op, 'requests', 'must hold at least one request');
    if (spec.requests.some((r) => r.length === 0)) throw optionError(op, 'requests', 'cannot be empty');
    const ends = [frame !== undefined, spec.replySize !== undefined, spec.expect !== undefined];
    if (!ends.some(Boolean) && !datagram)
      throw optionError(
        op,
        'request',
        'needs a way to tell where each reply ends: frame, replySize or expect',
      );
    if (frame !== undefined && spec.replySize !== undefined)
      throw optionError(op, 'replySize', 'and frame both say where a reply ends: give one');
    if (spec.expect !== undefined && spec.expectMatch !== undefined)
      throw optionError(op, 'expectMatch', 'and expect both check each reply: give one');
    const size = spec.replySize;
    if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= MAX_REPLY_SIZE))
      throw optionError(op, 'replySize', 'must be from 1 B to 64 MiB');
    if (spec.expect?.length === 0) throw optionError(op, 'expect', 'cannot be empty');
    this.#templates = spec.requests.map((r) => template(r, 'requests', true));
    const expect = spec.expect && template(spec.expect, 'expect', false);
    if (expect?.fixed && size !== undefined && expect.fixed.length !== size)
      throw optionError(op, 'replySize', `is ${size} B but the expected reply is ${expect.fixed.length} B`);
    let pattern: RegExp | undefined;
    try {
      pattern = spec.expectMatch === undefined ? undefined : new RegExp(spec.expectMatch, 's');
    } catch (err) {
      throw optionError(op, 'expectMatch', `is not a regular expression: ${(err as Error).message}`);
    }
    this.#check = expect
      ? { kind: 'exact', expect }
      : pattern
        ? { kind: 'match', pattern }
        : { kind: 'none' };
    if (frame === 'delimiter' && !framing?.delimiter?.length)
      throw optionError(op, 'delimiter', "is needed with frame 'delimiter' (one byte or more)");
    if (frame) {
      let codec: Codec;
      try {
        const maxFrameSize = spec.maxFrame ?? DEFAULT_MAX_FRAME[frame] ?? 64 << 10;
        codec = codecFor(frame, { maxFrameSize, delimiter: framing?.delimiter });
      } catch (err) {
        throw optionError(op, 'maxFrame', `does not fit ${frame}: ${(err as Error).message}`);
      }
      const text = isTextFraming(frame);
      // A line or delimited reply is checked as it came, its ending included (as the request is
      // written); a length-prefixed one by its payload.
      this.#end = { kind: 'frame', codec, payload: !text };
      // A line (a delimited request) is sent as written, its ending added if it lacks it; a length prefix wraps the request.
      const ending = text ? Buffer.from(framing?.delimiter ?? LF) : LF;
      this.#frame = text
        ? (payload) => (endsWith(payload, ending) ? payload : Buffer.concat([payload, ending]))
        : (payload) => codec.encode(payload);
    } else {
      this.#end =
        size !== undefined ? { kind: 'size', size } : datagram ? { kind: 'datagram' } : { kind: 'expect' };
    }
    this.#fixed = this.#templates.map((t) => t.fixed && this.#framed(t.fixed));
    this.#random = xorshift(seed);
  }

  /** request returns the bytes of connection `connection`'s request number `sequence`, framed. */
  request(connection: number, sequence: number): Buffer {
    const at = sequence % this.#templates.length;
    return (
      this.#fixed[at] ??
      this.#framed((this.#templates[at] as RequestTemplate).render(connection, sequence, this.#random))
    );
  }

  /** reader returns a reply reader for connection `connection`. */
  reader(connection: number, onMismatch: (mismatch: Mismatch) => void): ReplyReader {
    return new ReplyReader(this.#end, this.#check, connection, onMismatch);
  }

  #framed(payload: Buffer): Buffer {
    try {
      return this.#frame ? this.#frame(payload) : payload;
    } catch (err) {
      throw optionError('bench', 'requests', `cannot be framed: ${(err as Error).message}`);
    }
  }
}

const LF = Buffer.from('\n');

/** endsWith tells whether `bytes` ends with `ending`. */
function endsWith(bytes: Buffer, ending: Buffer): boolean {
  return bytes.length >= ending.length && bytes.subarray(bytes.length - ending.length).equals(ending);
}

/** The largest reply frame by default: 64 KiB, or what the length prefix can say if less. */
const DEFAULT_MAX_FRAME: Partial<Record<FrameName, number>> = { len8: 255, len16: 65_535 };

function template(bytes: Uint8Array, option: string, allowRandom: boolean): RequestTemplate {
  try {
    return new RequestTemplate(bytes, allowRandom);
  } catch (err) {
    throw optionError('bench', option, (err as Error).message);
  }
}
