/**
 * The shutdown summary of a service server: what it served and what its limits refused, in one
 * line. A `--workers` worker sends its summary to the primary instead of printing it, and the
 * primary prints one line for all of them, the counts added up.
 */
import type { DatagramGuardStats, GuardStats, PacketServeSummary, ServeSummary } from '../../index.js';
import { formatBytes, formatCount, formatDuration, plural } from '../../index.js';
import { datagramLimitSummary, limitSummary } from '../options/limits.js';

/** ServiceSummary is what one server process saw: the parts it had listeners for. */
export interface ServiceSummary {
  readonly streams?: ServeSummary;
  readonly guard?: GuardStats;
  readonly datagrams?: PacketServeSummary;
  readonly datagramGuard?: DatagramGuardStats;
}

/** SUMMARY_MESSAGE tags the IPC message that carries a worker's summary. */
const SUMMARY_MESSAGE = 'sockkit:summary';

/** serviceSummaryLine words a summary: `served 3 connections, 1.2 KiB in, ...; refused 0 by limit, ...`. */
export function serviceSummaryLine(summary: ServiceSummary): string {
  const parts: string[] = [];
  const { streams, datagrams } = summary;
  if (streams) {
    parts.push(
      `${plural(streams.connections, 'connection')}, ${formatBytes(streams.bytesReceived)} in, ` +
        `${formatBytes(streams.bytesSent)} out` +
        (streams.forciblyClosed ? `, ${streams.forciblyClosed} closed at end of grace` : ''),
    );
  }
  if (datagrams) {
    parts.push(
      `${plural(datagrams.datagramsReceived, 'datagram')} in (${formatBytes(datagrams.bytesReceived)}), ` +
        `${formatCount(datagrams.datagramsSent)} out (${formatBytes(datagrams.bytesSent)})` +
        (datagrams.dropped ? `, ${datagrams.dropped} dropped` : '') +
        (datagrams.overBudget ? `, ${datagrams.overBudget} unanswered over the reply budget` : ''),
    );
  }
  return (
    `served ${parts.join('; ')}` +
    (summary.guard ? `; ${limitSummary(summary.guard)}` : '') +
    (summary.datagramGuard ? `; ${datagramLimitSummary(summary.datagramGuard)}` : '')
  );
}

/** reportSummary sends a worker's summary to its primary (see `summaryOf`). */
export function reportSummary(summary: ServiceSummary): void {
  process.send?.({ type: SUMMARY_MESSAGE, summary });
}

/** summaryOf returns the summary an IPC message from a worker carries, or undefined for any other message. */
export function summaryOf(message: unknown): ServiceSummary | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, summary } = message as { type?: unknown; summary?: unknown };
  return type === SUMMARY_MESSAGE && typeof summary === 'object' && summary !== null
    ? (summary as ServiceSummary)
    : undefined;
}

/**
 * addSummaries adds the counts of several summaries, field by field (the same shapes, from the
 * same command run in several workers).
 */
export function addSummaries(summaries: readonly ServiceSummary[]): ServiceSummary {
  return summaries.reduce<ServiceSummary>((total, one) => addCounts(total, one) as ServiceSummary, {});
}

function addCounts(a: unknown, b: unknown): unknown {
  if (typeof b === 'number') return (typeof a === 'number' ? a : 0) + b;
  if (typeof b !== 'object' || b === null) return b;
  const sum: Record<string, unknown> = { ...(a as Record<string, unknown> | undefined) };
  for (const [key, value] of Object.entries(b)) sum[key] = addCounts(sum[key], value);
  return sum;
}

/** shuttingDownLine is the line a first shutdown signal prints; UDP alone has nothing to wait for. */
export function shuttingDownLine(hasStreams: boolean, grace: number): string {
  return hasStreams
    ? `shutting down (grace ${formatDuration(grace)}; Ctrl-C again to force)`
    : 'shutting down (Ctrl-C again to force)';
}
