/**
 * PerfStream is what the client and the server see of one data stream, whatever its transport and
 * direction: counters, and the calls that start, stop and reset them. tcp-stream.ts and
 * udp-stream.ts implement it.
 */
import type { SockkitError } from '../errors.js';
import type { StreamResult } from './results.js';

/** StreamCounts are a stream's counters at one moment. */
export interface StreamCounts {
  /** Bytes sent (a sending stream) or received (a receiving one) since the last reset. */
  readonly bytes: number;
  /** UDP: datagrams sent, or the highest sequence number received (iperf3's packet count). */
  readonly packets: number;
  /** UDP receiver: datagrams lost so far. */
  readonly lost: number;
  /** UDP receiver: datagrams that arrived out of order. */
  readonly outOfOrder: number;
  /** UDP receiver: the RFC 3550 jitter estimate, in seconds. */
  readonly jitter: number;
}

/** PerfStream is one data stream of a test. */
export interface PerfStream {
  /** The id both sides give the stream: 1, 3, 4, 5, ... */
  readonly id: number;
  /** True when this side sends on it. */
  readonly sender: boolean;
  /** The first error the stream met (the peer reset it), if any. */
  readonly error: SockkitError | undefined;
  /** counts returns the counters now. */
  counts(): StreamCounts;
  /** start begins sending (a sender) or counting (a receiver). */
  start(): void;
  /** stop stops sending or counting; a receiver keeps reading, so the peer never blocks on it. */
  stop(): void;
  /** reset zeroes the counters (at the end of the warm-up). */
  reset(): void;
  /** close closes the stream's socket. */
  close(): void;
}

/** EMPTY_COUNTS is where every stream starts. */
export const EMPTY_COUNTS: StreamCounts = { bytes: 0, packets: 0, lost: 0, outOfOrder: 0, jitter: 0 };

/** streamId returns iperf3's id for the stream at `index` (from 0): 1, then 3, 4, 5 (2 is never used). */
export function streamId(index: number): number {
  return index === 0 ? 1 : index + 2;
}

/** streamResult is what one side reports in the result exchange for `stream`, measured over `seconds`. */
export function streamResult(stream: PerfStream, seconds: number): StreamResult {
  const counts = stream.counts();
  return {
    id: stream.id,
    bytes: counts.bytes,
    retransmits: -1,
    jitter: counts.jitter,
    errors: counts.lost,
    packets: counts.packets,
    outOfOrder: stream.sender ? undefined : counts.outOfOrder,
    startTime: 0,
    endTime: seconds,
  };
}

/** cpuPercent words process CPU time used since `since` (from process.cpuUsage()) over `wallSeconds`. */
export function cpuPercent(
  since: NodeJS.CpuUsage,
  wallSeconds: number,
): { total: number; user: number; system: number } {
  const used = process.cpuUsage(since);
  const scale = wallSeconds > 0 ? 100 / (wallSeconds * 1e6) : 0;
  return { total: (used.user + used.system) * scale, user: used.user * scale, system: used.system * scale };
}
