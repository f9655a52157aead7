/**
 * The shapes every load loop shares: what a run is asked to do (LoadPlan), what it counts
 * (Counters) and how a driver reads it (LoadEngine). The stream and datagram loops implement
 * LoadEngine in this thread; a worker thread runs one and is driven through the same interface.
 */
import type { SocketAddress } from '../address.js';
import type { FrameName } from '../framing/frame-names.js';
import { type Histogram, newHistogram } from './latency.js';

/** LoadPlan is the work one engine does. Every field is plain data, so it can cross to a worker. */
export interface LoadPlan {
  readonly address: SocketAddress;
  /** Connections (or UDP peers) this engine opens. */
  readonly connections: number;
  /** The first connection's number across all engines; it picks each connection's messages. */
  readonly firstConnection: number;
  /** Bytes per message on the wire. */
  readonly size: number;
  /** Messages in flight per connection in the closed loop (1 is ping-pong). */
  readonly depth: number;
  /** Messages per second for this engine in the open loop; 0 means closed loop. */
  readonly rate: number;
  /** Open a new connection for every message (connect, one echo, close): the connection rate. */
  readonly reconnect: boolean;
  /** How long a UDP datagram may go unanswered before it counts as lost, in milliseconds. */
  readonly lossTimeout: number;
  /** How long each connect may take, in milliseconds. */
  readonly connectTimeout: number;
  /** TLS: accept any certificate (self-signed servers). */
  readonly insecure: boolean;
  /** TLS: PEM of the certificate authorities to trust, instead of the system's. */
  readonly ca?: string | undefined;
  /** Stream transports: frame each message with this codec (the size is the payload's). */
  readonly frame?: FrameName | undefined;
}

/** Counters are what a run counted over some interval. */
export interface Counters {
  /** Messages whose echo came back complete. */
  messages: number;
  /** Bytes received back. */
  bytes: number;
  /** Messages whose echo differed from what was sent (or a datagram that was never sent). */
  mismatches: number;
  /** Connections that failed (reset, closed early, connect failed in reconnect mode). */
  errors: number;
  /** UDP datagrams never answered within the loss timeout. */
  lost: number;
  /** UDP replies that came twice. */
  duplicated: number;
  /** UDP replies that came after a later one. */
  reordered: number;
  /** Connections opened and closed (reconnect mode). */
  connects: number;
}

/** zeroCounters returns fresh counters. */
export function zeroCounters(): Counters {
  return {
    messages: 0,
    bytes: 0,
    mismatches: 0,
    errors: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    connects: 0,
  };
}

/** addCounters adds `from` into `into`. */
export function addCounters(into: Counters, from: Counters): void {
  for (const key of Object.keys(into) as (keyof Counters)[]) into[key] += from[key];
}

/** LoadSample is what happened since the previous sample: counters, and a histogram of latencies. */
export interface LoadSample {
  readonly counters: Counters;
  readonly histogram: Histogram;
  /** Connections open at the time of the sample. */
  readonly open: number;
}

/** LoadEngine is one load loop, driven by `bench`: connect, start, sample each second, stop. */
export interface LoadEngine {
  /** connect opens every connection; it rejects with a SockkitError if one cannot connect. */
  connect(): Promise<void>;
  /** start begins sending. */
  start(): void;
  /** sample returns what happened since the previous sample and starts a new interval. */
  sample(): Promise<LoadSample>;
  /** stop stops sending, closes every connection, and returns the last interval. */
  stop(): Promise<LoadSample>;
}

/**
 * Tally is the mutable state a loop records into: counters and histogram for the current
 * interval. `take` hands them over and starts afresh, so recording never allocates.
 */
export class Tally {
  counters: Counters = zeroCounters();
  histogram: Histogram = newHistogram();

  /** take returns the interval so far and starts a new one (a new histogram once a second, not per message). */
  take(open: number): LoadSample {
    const sample = { counters: this.counters, histogram: this.histogram, open };
    this.counters = zeroCounters();
    this.histogram = newHistogram();
    return sample;
  }
}
