/**
 * The UDP load loop: many peers (one connected UDP socket each), each keeping `depth` datagrams
 * in flight (closed loop) or sending on a schedule (open loop). Each datagram starts with the
 * peer's number and a sequence number, so replies can be told lost, duplicated or reordered. Each
 * reply is checked and dropped as it comes, so a server that answers ten times costs no memory.
 * With `plan.request`, each peer sends requests and checks replies instead (request-datagram-peer.ts).
 *
 * Each peer is a PacketConn, so the load takes the native batch path where it is available (see
 * `datagramPath`): the datagrams a peer sends in one turn of the event loop go out in one
 * `sendmmsg`, and its replies come in with one `recvmmsg` per wake-up.
 */
import { performance } from 'node:perf_hooks';
import type { InetAddress } from '../address.js';
import { dialResolved, resolvePacketTargets } from '../datagram/dial-packet.js';
import type { PacketConn } from '../datagram/packet-conn.js';
import { recordMs } from './latency.js';
import {
  type ConnectOutcome,
  errorKindOf,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  Tally,
} from './load.js';
import type { MessageRing } from './payload.js';
import { RequestDatagramPeer } from './request-datagram-peer.js';
import { RequestProtocol } from './request-spec.js';
import { SendSchedule } from './send-schedule.js';
import { ringFor } from './stream-load.js';

/** HEADER is the bytes before each datagram's payload: peer number, then sequence number (uint32 BE each). */
export const DATAGRAM_HEADER = 8;
/** How often outstanding datagrams are checked against the loss timeout, in milliseconds. */
const LOSS_SCAN = 50;

enum Slot {
  Free = 0,
  Outstanding = 1,
  Answered = 2,
  Lost = 3,
}

/** DatagramLoad drives UDP peers; see LoadEngine for the life cycle. */
export class DatagramLoad implements LoadEngine {
  readonly plan: LoadPlan;
  readonly ring: MessageRing;
  readonly tally = new Tally();
  readonly #protocol: RequestProtocol | undefined;
  readonly #peers: (DatagramPeer | RequestDatagramPeer)[] = [];
  running = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(plan: LoadPlan) {
    if (plan.size < DATAGRAM_HEADER)
      throw new RangeError(`UDP messages need at least ${DATAGRAM_HEADER} bytes`);
    this.plan = plan;
    this.ring = ringFor(plan.request ? 0 : plan.size - DATAGRAM_HEADER);
    if (plan.request) this.#protocol = new RequestProtocol(plan.request, undefined, true);
  }

  async connect(): Promise<ConnectOutcome> {
    const address = this.plan.address as InetAddress;
    // A name's first address, as dialPacket connects to.
    const [first] = await resolvePacketTargets(address, { family: this.plan.family });
    if (!first) throw new RangeError('UDP needs a host and port');
    const conns = await Promise.all(
      Array.from({ length: this.plan.connections }, () => dialResolved(address, first)),
    );
    for (const [i, conn] of conns.entries()) {
      const id = this.plan.firstConnection + i;
      this.#peers.push(
        this.#protocol
          ? new RequestDatagramPeer(this, this.#protocol, conn, id)
          : new DatagramPeer(this, conn, id),
      );
    }
    return { opened: this.#peers.length };
  }

  /** batchedPeers counts the peers whose socket moves its datagrams in batches (the native path). */
  get batchedPeers(): number {
    return this.#peers.filter((peer) => peer.conn.batched).length;
  }

  /** start begins sending; UDP peers never fail for good, so `onIdle` is never called. */
  start(_onIdle?: () => void): void {
    this.running = true;
    const now = performance.now();
    for (const peer of this.#peers) peer.start(now);
    this.#timers.push(setInterval(() => this.#scan(), LOSS_SCAN));
    if (this.plan.rate > 0) {
      this.#timers.push(
        setInterval(() => {
          const at = performance.now();
          for (const peer of this.#peers) peer.sendDue(at);
        }, 1),
      );
    }
  }

  sample(): Promise<LoadSample> {
    return Promise.resolve(this.tally.take(this.#peers.length));
  }

  /** stop stops sending, waits a little for the replies in flight, counts the rest lost, and closes. */
  async stop(): Promise<LoadSample> {
    this.running = false;
    for (const timer of this.#timers) clearInterval(timer);
    const deadline = performance.now() + Math.min(this.plan.lossTimeout, 500);
    while (this.#peers.some((p) => p.outstanding > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    for (const peer of this.#peers) {
      this.tally.counters.lost += peer.outstanding;
    }
    await Promise.all(this.#peers.map((peer) => peer.conn.close()));
    return this.tally.take(0);
  }

  #scan(): void {
    const now = performance.now();
    for (const peer of this.#peers) peer.expire(now);
  }
}

/** DatagramPeer is one UDP socket's window of datagrams in flight. */
class DatagramPeer {
  readonly conn: PacketConn;
  readonly #load: DatagramLoad;
  readonly #id: number;
  readonly #first: number;
  /** Per slot (sequence number modulo the window): its sequence number, send time and state. */
  readonly #seqs: Float64Array;
  readonly #sentAt: Float64Array;
  readonly #state: Uint8Array;
  readonly #mask: number;
  #next = 0;
  #highest = -1;
  readonly #schedule: SendSchedule;
  /** The one send buffer of a batched (native) socket; undefined on the dgram path. */
  readonly #scratch: Buffer | undefined;
  outstanding = 0;

  constructor(load: DatagramLoad, conn: PacketConn, id: number) {
    this.#load = load;
    this.conn = conn;
    this.#scratch = conn.batched ? Buffer.allocUnsafe(DATAGRAM_HEADER + load.ring.size) : undefined;
    this.#id = id;
    this.#first = id % load.ring.count;
    const plan = load.plan;
    this.#schedule = new SendSchedule(plan, id);
    let window = plan.depth * 2;
    if (this.#schedule.isOpenLoop)
      window = Math.min(65536, Math.ceil((2 * plan.lossTimeout) / this.#schedule.period));
    const slots = 2 ** Math.ceil(Math.log2(Math.max(16, window)));
    this.#mask = slots - 1;
    this.#seqs = new Float64Array(slots).fill(-1);
    this.#sentAt = new Float64Array(slots);
    this.#state = new Uint8Array(slots);
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

  /** expire counts datagrams unanswered past the loss timeout as lost; the closed loop sends one more for each. */
  expire(now: number): void {
    if (this.outstanding === 0) return;
    const timeout = this.#load.plan.lossTimeout;
    const from = Math.max(0, this.#next - this.#mask - 1);
    for (let seq = from; seq < this.#next; seq += 1) {
      const slot = seq & this.#mask;
      if (this.#state[slot] !== Slot.Outstanding || now - (this.#sentAt[slot] as number) < timeout) continue;
      this.#markLost(slot);
      if (!this.#schedule.isOpenLoop && this.#load.running) this.#send(now);
    }
  }

  #markLost(slot: number): void {
    this.#state[slot] = Slot.Lost;
    this.outstanding -= 1;
    this.#load.tally.counters.lost += 1;
  }

  /** #send sends the next datagram; `sentAt` is its send time, or its intended time in the open loop. */
  #send(sentAt: number): void {
    const seq = this.#next;
    this.#next += 1;
    const slot = seq & this.#mask;
    if (this.#state[slot] === Slot.Outstanding) this.#markLost(slot); // the window wrapped: it is long overdue
    this.#seqs[slot] = seq;
    this.#sentAt[slot] = sentAt;
    this.#state[slot] = Slot.Outstanding;
    this.outstanding += 1;
    // The native path copies a datagram when it is written, so one buffer serves every send; dgram
    // holds it until the kernel takes it, so there each datagram has its own.
    const ring = this.#load.ring;
    const datagram = this.#scratch ?? Buffer.allocUnsafe(DATAGRAM_HEADER + ring.size);
    datagram.writeUInt32BE(this.#id >>> 0, 0);
    datagram.writeUInt32BE(seq >>> 0, 4);
    datagram.set(ring.message(this.#first + seq), DATAGRAM_HEADER);
    this.conn.write(datagram);
  }

  #onMessage(message: Buffer): void {
    const load = this.#load;
    const counters = load.tally.counters;
    const now = performance.now();
    counters.bytes += message.length;
    const ring = load.ring;
    if (message.length !== ring.size + DATAGRAM_HEADER || message.readUInt32BE(0) !== this.#id >>> 0) {
      counters.mismatches += 1;
      return;
    }
    const seq = message.readUInt32BE(4);
    const slot = seq & this.#mask;
    const state = this.#state[slot];
    if (seq >= this.#next || this.#seqs[slot] !== seq) {
      // Never sent, or so old its slot was reused: a corrupted or very late datagram.
      if (seq >= this.#next) counters.mismatches += 1;
      else counters.duplicated += 1;
      return;
    }
    const at = ((this.#first + seq) % ring.count) * ring.size;
    if (ring.bytes.compare(message, DATAGRAM_HEADER, message.length, at, at + ring.size) !== 0) {
      counters.mismatches += 1;
    }
    if (state === Slot.Answered) {
      counters.duplicated += 1;
      return;
    }
    if (state === Slot.Lost) return; // late: it already counted as lost
    this.#state[slot] = Slot.Answered;
    this.outstanding -= 1;
    if (seq < this.#highest) counters.reordered += 1;
    else this.#highest = seq;
    recordMs(load.tally.histogram, now - (this.#sentAt[slot] as number));
    counters.messages += 1;
    if (!this.#schedule.isOpenLoop && load.running) this.#send(now);
  }
}
