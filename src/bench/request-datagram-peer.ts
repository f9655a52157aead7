/**
 * RequestDatagramPeer is one UDP socket of a request/response run: each request is one datagram,
 * each reply one datagram. A reply carries nothing bench can match on, so replies answer the
 * requests in the order sent (the oldest outstanding); a request unanswered for the loss timeout
 * is lost, and a reply when none is outstanding counts as duplicated. The closed loop keeps `depth`
 * requests in flight; the open loop sends on its timetable, latency measured from when each was due.
 */
import { performance } from 'node:perf_hooks';
import type { PacketConn } from '../datagram/packet-conn.js';
import { recordMs } from './latency.js';
import { errorKindOf, type LoadPlan, MAX_MISMATCH_SAMPLES, type Tally } from './load.js';
import { mismatchSample, type ReplyReader } from './reply-check.js';
import type { RequestProtocol } from './request-spec.js';
import { SendSchedule } from './send-schedule.js';

/** DatagramHost is the load loop a peer reports to. */
export interface DatagramHost {
  readonly plan: LoadPlan;
  readonly running: boolean;
  readonly tally: Tally;
}

export class RequestDatagramPeer {
  readonly conn: PacketConn;
  readonly #load: DatagramHost;
  readonly #protocol: RequestProtocol;
  readonly #reader: ReplyReader;
  readonly #id: number;
  /** The requests in flight, oldest first, in a ring: sequence numbers and send times. */
  #seqs: Float64Array;
  #sentAt: Float64Array;
  #head = 0;
  #next = 0;
  readonly #schedule: SendSchedule;
  outstanding = 0;

  constructor(load: DatagramHost, protocol: RequestProtocol, conn: PacketConn, id: number) {
    this.#load = load;
    this.#protocol = protocol;
    this.conn = conn;
    this.#id = id;
    const plan = load.plan;
    this.#schedule = new SendSchedule(plan, id);
    this.#seqs = new Float64Array(Math.max(16, plan.depth));
    this.#sentAt = new Float64Array(this.#seqs.length);
    this.#reader = protocol.reader(id, (mismatch) => {
      const counters = load.tally.counters;
      counters.mismatches += 1;
      if (counters.mismatchSamples.length < MAX_MISMATCH_SAMPLES)
        counters.mismatchSamples.push(mismatchSample(mismatch));
    });
    // A connected UDP socket hears ICMP "port unreachable" as ECONNREFUSED on its next send.
    conn.onMessage(
      (message) => this.#onMessage(message),
      (err) => {
        if (load.running) load.tally.counters.errors[errorKindOf(err)] += 1;
      },
    );
  }

  start(now: number): void {
    this.#schedule.start(now);
    if (this.#schedule.isOpenLoop) this.sendDue(now);
    else for (let i = 0; i < this.#load.plan.depth; i += 1) this.#send(now);
  }

  sendDue(now: number): void {
    const due = this.#schedule.due(now);
    while (this.#next < due) this.#send(this.#schedule.intended(this.#next));
  }

  /** expire counts the requests unanswered past the loss timeout as lost; the closed loop sends one more for each. */
  expire(now: number): void {
    const timeout = this.#load.plan.lossTimeout;
    while (this.outstanding > 0 && now - (this.#sentAt[this.#head] as number) >= timeout) {
      this.#pop();
      this.#load.tally.counters.lost += 1;
      if (!this.#schedule.isOpenLoop && this.#load.running) this.#send(now);
    }
  }

  /** #send sends the next request; `sentAt` is its send time, or its intended time in the open loop. */
  #send(sentAt: number): void {
    if (this.outstanding === this.#seqs.length) this.#grow();
    const slot = (this.#head + this.outstanding) % this.#seqs.length;
    this.#seqs[slot] = this.#next;
    this.#sentAt[slot] = sentAt;
    this.outstanding += 1;
    this.conn.write(this.#protocol.request(this.#id, this.#next));
    this.#next += 1;
  }

  /**
   * #grow doubles the ring. The open loop keeps at most a loss timeout's worth of requests in
   * flight (expire drops older ones), so the ring is bounded by the rate, not by the server.
   */
  #grow(): void {
    const length = this.#seqs.length;
    const seqs = new Float64Array(length * 2);
    const sentAt = new Float64Array(length * 2);
    for (let i = 0; i < length; i += 1) {
      seqs[i] = this.#seqs[(this.#head + i) % length] as number;
      sentAt[i] = this.#sentAt[(this.#head + i) % length] as number;
    }
    this.#seqs = seqs;
    this.#sentAt = sentAt;
    this.#head = 0;
  }

  /** #pop removes the oldest request in flight and returns its sequence number. */
  #pop(): number {
    const seq = this.#seqs[this.#head] as number;
    this.#head = (this.#head + 1) % this.#seqs.length;
    this.outstanding -= 1;
    return seq;
  }

  #onMessage(message: Buffer): void {
    const load = this.#load;
    const counters = load.tally.counters;
    const now = performance.now();
    counters.bytes += message.length;
    if (this.outstanding === 0) {
      counters.duplicated += 1; // a reply when none is owed: late after its loss, or sent twice
      return;
    }
    const sentAt = this.#sentAt[this.#head] as number;
    this.#reader.checkDatagram(message, this.#pop());
    recordMs(load.tally.histogram, now - sentAt);
    counters.messages += 1;
    if (!this.#schedule.isOpenLoop && load.running) this.#send(now);
  }
}
