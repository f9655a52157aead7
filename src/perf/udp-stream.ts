/**
 * UDP data streams: UdpSender sends numbered, timestamped datagrams at a target bitrate;
 * UdpReceiver counts them, with loss, reordering and jitter as iperf3 reports them. Each works
 * through a `send` function and a `receive` call, so a client's connected socket and a server's
 * one shared socket (many peers) serve alike.
 */
import type { SockkitError } from '../errors.js';
import { JitterEstimator } from './jitter.js';
import { EMPTY_COUNTS, type PerfStream, type StreamCounts } from './perf-stream.js';
import { readUdpHeader, udpHeaderSize, writeUdpHeader } from './udp-header.js';
import { UdpSequenceCounter } from './udp-sequence.js';

/**
 * DatagramSink sends one datagram and returns false when it was dropped locally (a full send
 * queue): such a datagram takes no sequence number, so it never counts as network loss.
 */
export type DatagramSink = (datagram: Buffer) => boolean;

/** QueueDepth tells how many datagrams the kernel has not taken yet. */
export type QueueDepth = () => number;

/** UDP_RECEIVE_BUFFER is the receive buffer asked for on UDP sockets that carry test data: room for a burst while the event loop is busy (the kernel caps it at net.core.rmem_max). */
export const UDP_RECEIVE_BUFFER = 4 << 20;

/** How many buffers a sender rotates through; a queued datagram keeps its buffer until sent. */
const POOL = 128;
/** The most datagrams a sender lets wait in the send queue (well under POOL). */
const MAX_QUEUED = 64;
/** The most datagrams sent in one turn of the event loop, so control messages still get read. */
const BURST = 32;

/** wallClockSeconds is the time of day in seconds, with microseconds, as iperf3 stamps datagrams. */
export function wallClockSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** UdpSender sends one stream's datagrams. */
export class UdpSender implements PerfStream {
  readonly id: number;
  readonly sender = true;
  error: SockkitError | undefined;
  readonly #send: DatagramSink;
  readonly #queued: QueueDepth;
  readonly #pool: Buffer[];
  readonly #bitrate: number;
  readonly #counters64bit: boolean;
  #next = 0;
  #sequence = 0;
  #bytes = 0;
  #packets = 0;
  #running = false;
  #startedAt = 0;
  #sentSinceStart = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    id: number,
    send: DatagramSink,
    queued: QueueDepth,
    blockLength: number,
    bitrate: number,
    counters64bit: boolean,
  ) {
    this.id = id;
    this.#send = send;
    this.#queued = queued;
    const length = Math.max(blockLength, udpHeaderSize(counters64bit));
    this.#pool = Array.from({ length: POOL }, () => Buffer.alloc(length, '0123456789'));
    this.#bitrate = bitrate;
    this.#counters64bit = counters64bit;
  }

  counts(): StreamCounts {
    return { ...EMPTY_COUNTS, bytes: this.#bytes, packets: this.#packets };
  }

  start(): void {
    this.#running = true;
    this.#startedAt = performance.now();
    this.#sentSinceStart = 0;
    this.#tick();
  }

  stop(): void {
    this.#running = false;
    this.#cancel();
  }

  reset(): void {
    this.#bytes = 0;
    this.#packets = 0;
  }

  close(): void {
    this.stop();
  }

  #tick = (): void => {
    this.#timer = undefined;
    if (!this.#running) return;
    let owed = Number.POSITIVE_INFINITY;
    if (this.#bitrate > 0) {
      const elapsed = (performance.now() - this.#startedAt) / 1000;
      owed = Math.ceil(
        ((elapsed * this.#bitrate) / 8 - this.#sentSinceStart) / (this.#pool[0] as Buffer).length,
      );
    }
    const due = Math.min(BURST, owed);
    for (let i = 0; i < due && this.#queued() < MAX_QUEUED; i++) this.#sendOne();
    // On schedule: look again in a millisecond (iperf3's pacing timer). Unpaced, or owing more
    // than one burst (a bitrate above what one burst a millisecond carries, about 360 Mbit/s
    // with 1,400-byte datagrams): at once, after I/O.
    this.#timer = owed > BURST ? setImmediate(this.#tick) : setTimeout(this.#tick, 1);
  };

  #sendOne(): void {
    const datagram = this.#pool[this.#next] as Buffer;
    this.#next = (this.#next + 1) % POOL;
    const now = wallClockSeconds();
    const seconds = Math.floor(now);
    writeUdpHeader(
      datagram,
      { seconds, microseconds: Math.floor((now - seconds) * 1e6), sequence: this.#sequence + 1 },
      this.#counters64bit,
    );
    if (!this.#send(datagram)) return;
    this.#sequence += 1;
    this.#packets += 1;
    this.#bytes += datagram.length;
    this.#sentSinceStart += datagram.length;
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}

/** UdpReceiver counts one stream's datagrams, as they are passed to `receive`. */
export class UdpReceiver implements PerfStream {
  readonly id: number;
  readonly sender = false;
  error: SockkitError | undefined;
  readonly #counters64bit: boolean;
  readonly #close: () => void;
  #sequence = new UdpSequenceCounter();
  #jitter = new JitterEstimator();
  #bytes = 0;
  #counting = false;

  constructor(id: number, counters64bit: boolean, close: () => void = () => {}) {
    this.id = id;
    this.#counters64bit = counters64bit;
    this.#close = close;
  }

  /** receive counts one datagram (ignored unless counting, or when too short to carry a header). */
  receive(datagram: Buffer): void {
    if (!this.#counting) return;
    const header = readUdpHeader(datagram, this.#counters64bit);
    if (!header) return;
    this.#bytes += datagram.length;
    this.#sequence.accept(header.sequence);
    this.#jitter.update(header.seconds + header.microseconds / 1e6, wallClockSeconds());
  }

  counts(): StreamCounts {
    return {
      bytes: this.#bytes,
      packets: this.#sequence.highest - this.#baseline,
      lost: this.#sequence.lost,
      outOfOrder: this.#sequence.outOfOrder,
      jitter: this.#jitter.jitter,
    };
  }

  start(): void {
    this.#counting = true;
  }

  stop(): void {
    this.#counting = false;
  }

  /**
   * reset zeroes the byte count at the end of the warm-up. The sequence state carries on (so the
   * first datagrams after it are not taken for losses), with loss and reordering counted afresh
   * from there, as iperf3 does.
   */
  reset(): void {
    this.#bytes = 0;
    const highest = this.#sequence.highest;
    this.#sequence = new UdpSequenceCounter();
    this.#sequence.highest = highest;
    this.#baseline = highest;
  }

  /** The highest sequence number at the last reset: packets are counted from there. */
  #baseline = 0;

  close(): void {
    this.#close();
  }
}
