/**
 * RequestClient is one request/response connection: it sends requests (RequestProtocol) on the
 * schedule every stream connection keeps, and reads each reply in order, checked, with a
 * ReplyReader. Bytes no request asked for, or a frame over the maximum, fail the connection as
 * a protocol error: a server that floods costs at most one reply's bytes.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MAX_MISMATCH_SAMPLES } from './load.js';
import { type Mismatch, mismatchSample, type ReplyReader } from './reply-check.js';
import type { RequestProtocol } from './request-spec.js';
import { StreamConnection, type StreamHost } from './stream-connection.js';

export class RequestClient extends StreamConnection {
  readonly #protocol: RequestProtocol;
  readonly #reader: ReplyReader;

  constructor(load: StreamHost, protocol: RequestProtocol, socket: Socket, id: number) {
    super(load, socket, id);
    this.#protocol = protocol;
    this.#reader = protocol.reader(id, (mismatch) => this.#mismatch(mismatch));
  }

  protected message(n: number): Buffer {
    return this.#protocol.request(this.id, n);
  }

  protected override send(now: number): void {
    try {
      super.send(now);
    } catch {
      this.fail('protocol'); // a request its substitutions made too long for its frame
    }
  }

  onData(chunk: Buffer, length: number): void {
    if (this.isFailed || this.load.stopped) return;
    const now = performance.now();
    let replies = 0;
    let broken = false;
    try {
      replies = this.#reader.consume(chunk, length, this.outstanding);
    } catch {
      broken = true; // a frame over the maximum: the server's bytes do not frame
    }
    this.load.tally.counters.bytes += length;
    if (replies > 0) this.answered(replies, now);
    // Bytes no request asked for, or that do not frame, fail the connection (after counting the replies before them).
    if (broken || this.#reader.overrun) this.fail('protocol');
  }

  #mismatch(mismatch: Mismatch): void {
    const counters = this.load.tally.counters;
    counters.mismatches += 1;
    if (counters.mismatchSamples.length < MAX_MISMATCH_SAMPLES)
      counters.mismatchSamples.push(mismatchSample(mismatch));
  }
}
