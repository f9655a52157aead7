/**
 * A perf report in the shape of iperf3's JSON output (`iperf3 -J`): `start`, `intervals` and
 * `end`, with iperf3's keys, so tools that read iperf3 JSON read sockkit's. What iperf3 has no
 * key for (responsiveness) goes under `end.sockkit`. `--json-stream` prints the same pieces as
 * they happen, one `{"event": ..., "data": ...}` line each, as iperf3 3.13 does.
 */
import type { IntervalStream, PerfInterval, PerfReport, PerfStart, PerfStreamReport } from './client.js';
import type { StreamCounts } from './perf-stream.js';

type Json = Record<string, unknown>;

/** iperfJsonStart returns the `start` object for a test about to run. */
export function iperfJsonStart(start: PerfStart, version: string): Json {
  const p = start.params;
  return {
    connected: start.streams.map((s) => ({
      socket: s.id,
      local_host: s.localHost,
      local_port: s.localPort,
      remote_host: s.remoteHost,
      remote_port: s.remotePort,
    })),
    version: `sockkit perf ${version}`,
    system_info: `${process.platform} ${process.arch} node ${process.versions.node}`,
    timestamp: { time: new Date(start.timestamp * 1000).toUTCString(), timesecs: start.timestamp },
    connecting_to: {
      host: start.url.replace(/^tcp:\/\/\[?([^\]]*?)\]?:\d+$/, '$1'),
      port: portOf(start.url),
    },
    cookie: start.cookie,
    target_bitrate: p.bitrate,
    test_start: {
      protocol: p.protocol.toUpperCase(),
      num_streams: p.parallel,
      blksize: p.blockLength,
      omit: p.omit,
      duration: p.duration,
      bytes: 0,
      blocks: 0,
      reverse: p.direction === 'reverse' ? 1 : 0,
      bidir: p.direction === 'bidir' ? 1 : 0,
      tos: 0,
      target_bitrate: p.bitrate,
    },
    sockkit_server: start.sockkitServer,
  };
}

/** iperfJsonInterval returns one element of `intervals`. */
export function iperfJsonInterval(interval: PerfInterval, udp: boolean): Json {
  const seconds = interval.end - interval.start;
  const entry = (s: IntervalStream): Json => ({
    socket: s.id,
    start: interval.start,
    end: interval.end,
    seconds,
    bytes: s.bytes,
    bits_per_second: rate(s.bytes, seconds),
    ...(udp ? udpInterval(s) : {}),
    omitted: interval.omitted,
    sender: s.sender,
  });
  const sum = (streams: readonly IntervalStream[], sender: boolean): Json => {
    const bytes = streams.reduce((total, s) => total + s.bytes, 0);
    return {
      start: interval.start,
      end: interval.end,
      seconds,
      bytes,
      bits_per_second: rate(bytes, seconds),
      ...(udp ? { packets: streams.reduce((total, s) => total + s.packets, 0) } : {}),
      omitted: interval.omitted,
      sender,
    };
  };
  const forward = interval.streams.filter((s) => s.sender);
  const reverse = interval.streams.filter((s) => !s.sender);
  const json: Json = { streams: interval.streams.map(entry) };
  if (forward.length > 0 && reverse.length > 0) {
    json.sum = sum(forward, true);
    json.sum_bidir_reverse = sum(reverse, false);
  } else {
    json.sum = sum(interval.streams, forward.length > 0);
  }
  return json;
}

/** iperfJson returns the whole report as iperf3 -J prints it. */
export function iperfJson(report: PerfReport, version: string): Json {
  const udp = report.start.params.protocol === 'udp';
  return {
    start: iperfJsonStart(report.start, version),
    intervals: report.intervals.map((i) => iperfJsonInterval(i, udp)),
    end: iperfJsonEnd(report),
    // iperf3 -J says so when Ctrl-C ended the test, beside what it measured until then.
    ...(report.partial ? { error: 'interrupt - the client has terminated' } : {}),
  };
}

/** iperfJsonEnd returns the `end` object: per-stream sender and receiver figures, and their sums. */
export function iperfJsonEnd(report: PerfReport): Json {
  const udp = report.start.params.protocol === 'udp';
  const sent = report.seconds;
  const received = report.serverSeconds || report.seconds;
  const sideSeconds = (s: PerfStreamReport, side: 'sent' | 'received'): number =>
    (side === 'sent') === s.sender ? sent : received;
  const figures = (s: PerfStreamReport, side: 'sent' | 'received'): Json => {
    const seconds = sideSeconds(s, side);
    const counts = s[side];
    return {
      socket: s.id,
      start: 0,
      end: seconds,
      seconds,
      bytes: counts.bytes,
      bits_per_second: rate(counts.bytes, seconds),
      ...(side === 'sent' && !udp ? { retransmits: -1 } : {}),
      sender: s.sender,
    };
  };
  const streams = report.streams.map((s) =>
    udp
      ? { udp: { ...figures(s, 'received'), ...udpTotals(s.sent, s.received) } }
      : { sender: figures(s, 'sent'), receiver: figures(s, 'received') },
  );
  const sums = (group: readonly PerfStreamReport[], side: 'sent' | 'received', sender: boolean): Json => {
    const bytes = group.reduce((total, s) => total + s[side].bytes, 0);
    const seconds = group.length > 0 ? sideSeconds(group[0] as PerfStreamReport, side) : 0;
    const json: Json = {
      start: 0,
      end: seconds,
      seconds,
      bytes,
      bits_per_second: rate(bytes, seconds),
      sender,
    };
    if (udp) {
      const total = (pick: (c: StreamCounts) => number) => group.reduce((n, s) => n + pick(s[side]), 0);
      const packets = group.reduce((n, s) => n + s.sent.packets, 0);
      const lost = group.reduce((n, s) => n + s.received.lost, 0);
      Object.assign(json, {
        jitter_ms: side === 'received' ? mean(group.map((s) => s.received.jitter * 1000)) : 0,
        lost_packets: side === 'received' ? lost : 0,
        packets: side === 'received' ? total((c) => c.packets) : packets,
        lost_percent: side === 'received' && packets > 0 ? (100 * lost) / packets : 0,
      });
    }
    return json;
  };
  const forward = report.streams.filter((s) => s.sender);
  const reverse = report.streams.filter((s) => !s.sender);
  const end: Json = { streams };
  const main = forward.length > 0 ? forward : reverse;
  end.sum_sent = sums(main, 'sent', main === forward);
  end.sum_received = sums(main, 'received', main === forward);
  if (forward.length > 0 && reverse.length > 0) {
    end.sum_sent_bidir_reverse = sums(reverse, 'sent', false);
    end.sum_received_bidir_reverse = sums(reverse, 'received', false);
  }
  if (udp) end.sum = sums(main, 'received', main === forward);
  end.cpu_utilization_percent = {
    host_total: report.cpu.total,
    host_user: report.cpu.user,
    host_system: report.cpu.system,
    remote_total: report.remoteCpu.total,
    remote_user: report.remoteCpu.user,
    remote_system: report.remoteCpu.system,
  };
  if (report.serverOutput !== undefined) end.server_output_text = report.serverOutput;
  if (report.responsiveness) end.sockkit = { responsiveness: report.responsiveness };
  return end;
}

function udpInterval(s: IntervalStream): Json {
  if (s.sender) return { packets: s.packets };
  return {
    jitter_ms: s.jitter * 1000,
    lost_packets: s.lost,
    packets: s.packets,
    lost_percent: s.packets > 0 ? (100 * s.lost) / s.packets : 0,
    out_of_order: s.outOfOrder,
  };
}

function udpTotals(sent: StreamCounts, received: StreamCounts): Json {
  return {
    jitter_ms: received.jitter * 1000,
    lost_packets: received.lost,
    packets: sent.packets,
    lost_percent: sent.packets > 0 ? (100 * received.lost) / sent.packets : 0,
    out_of_order: received.outOfOrder,
  };
}

function rate(bytes: number, seconds: number): number {
  return seconds > 0 ? (bytes * 8) / seconds : 0;
}

function mean(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function portOf(url: string): number {
  return Number(/:(\d+)$/.exec(url)?.[1] ?? 0);
}
