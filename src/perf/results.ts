/**
 * The result exchange at the end of a test: each side sends the other a JSON object with its own
 * counts for every stream (`{"cpu_util_total":..,"streams":[{"id":1,"bytes":..,...}]}`), so both
 * can print sender and receiver figures. `resultsToWire` writes one, `resultsFromWire` reads one.
 */
import { ProtocolError } from '../errors.js';

/** StreamResult is one side's counts for one stream. */
export interface StreamResult {
  /** The stream's id, as both sides number streams: 1, 3, 4, 5, ... (iperf3 skips 2). */
  readonly id: number;
  /** Bytes this side sent (on a sending stream) or received (on a receiving one). */
  readonly bytes: number;
  /** TCP retransmissions the sender saw; -1 when unknown. */
  readonly retransmits: number;
  /** UDP receiver: the RFC 3550 jitter estimate, in seconds. */
  readonly jitter: number;
  /** UDP receiver: packets lost. */
  readonly errors: number;
  /** UDP: packets sent (sender) or the highest sequence number seen (receiver). */
  readonly packets: number;
  /** UDP receiver: packets that arrived out of order. */
  readonly outOfOrder?: number | undefined;
  /** Seconds from the start of the measured test to its first and last counted byte. */
  readonly startTime: number;
  readonly endTime: number;
}

/** PerfResults is everything one side sends in the result exchange. */
export interface PerfResults {
  readonly cpuUtilTotal: number;
  readonly cpuUtilUser: number;
  readonly cpuUtilSystem: number;
  /** 1 when this side sent and could count retransmissions, 0 when it could not, -1 when it did not send. */
  readonly senderHasRetransmits: number;
  readonly streams: readonly StreamResult[];
  /** The server's own report, when the client asked for it (`--get-server-output`). */
  readonly serverOutputText?: string | undefined;
}

/** resultsToWire returns the JSON object for `results`, with iperf3's keys. */
export function resultsToWire(results: PerfResults): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    cpu_util_total: results.cpuUtilTotal,
    cpu_util_user: results.cpuUtilUser,
    cpu_util_system: results.cpuUtilSystem,
    sender_has_retransmits: results.senderHasRetransmits,
    streams: results.streams.map((s) => ({
      id: s.id,
      bytes: s.bytes,
      retransmits: s.retransmits,
      jitter: s.jitter,
      errors: s.errors,
      packets: s.packets,
      ...(s.outOfOrder !== undefined ? { sockkit_out_of_order: s.outOfOrder } : {}),
      start_time: s.startTime,
      end_time: s.endTime,
    })),
  };
  if (results.serverOutputText !== undefined) wire.server_output_text = results.serverOutputText;
  return wire;
}

/**
 * resultsFromWire reads the results the peer sent. Throws ProtocolError when `streams` is
 * missing or a stream lacks a numeric id or byte count. iperf3 writes -1 into unsigned 64-bit
 * fields (it arrives as 1.8e19): such values read as -1.
 */
export function resultsFromWire(wire: Record<string, unknown>): PerfResults {
  const streams = wire.streams;
  if (!Array.isArray(streams) || streams.length > 1024) {
    throw new ProtocolError('perf results', '', 'the results carry no list of streams');
  }
  return {
    cpuUtilTotal: number(wire.cpu_util_total),
    cpuUtilUser: number(wire.cpu_util_user),
    cpuUtilSystem: number(wire.cpu_util_system),
    senderHasRetransmits: signed(wire.sender_has_retransmits),
    streams: streams.map((s: unknown) => {
      if (typeof s !== 'object' || s === null)
        throw new ProtocolError('perf results', '', 'a stream is not an object');
      const stream = s as Record<string, unknown>;
      if (typeof stream.id !== 'number' || typeof stream.bytes !== 'number') {
        throw new ProtocolError('perf results', '', 'a stream has no id or byte count');
      }
      return {
        id: stream.id,
        bytes: stream.bytes,
        retransmits: signed(stream.retransmits),
        jitter: number(stream.jitter),
        errors: number(stream.errors),
        packets: number(stream.packets),
        outOfOrder: typeof stream.sockkit_out_of_order === 'number' ? stream.sockkit_out_of_order : undefined,
        startTime: number(stream.start_time),
        endTime: number(stream.end_time),
      };
    }),
    serverOutputText: typeof wire.server_output_text === 'string' ? wire.server_output_text : undefined,
  };
}

function number(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** signed reads a field iperf3 keeps as a signed value but may print as unsigned (-1 as 2^64-1). */
function signed(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return -1;
  return value >= 2 ** 63 ? -1 : value;
}
