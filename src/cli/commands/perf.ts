/**
 * `sockkit perf URL` measures throughput (and, against a sockkit server, responsiveness) speaking
 * iperf3's protocol; `sockkit perf serve [URL...]` is the server, many tests at once. This file
 * only parses flags and prints: the work is in src/perf/, reached through the public index.
 */
import { Command, Option } from 'commander';
import {
  DEFAULT_TCP_BLOCK,
  DEFAULT_UDP_BLOCK,
  formatBytes,
  formatDuration,
  formatSize,
  type InetAddress,
  iperfJson,
  iperfJsonEnd,
  iperfJsonInterval,
  iperfJsonStart,
  listenPerf,
  type PerfInterval,
  type PerfListeners,
  type PerfReport,
  type PerfStart,
  parseCount,
  parseSize,
  perfClient,
  plural,
  type RttSummary,
  type ServerTestSummary,
  servePerf,
  UsageError,
} from '../../index.js';
import {
  addressArg,
  announceListening,
  durationDefault,
  durationOption,
  tracerFor,
} from '../options/common.js';
import { guardFor, type LimitFlags, limitSummary, withLimitOptions } from '../options/limits.js';
import { shutdownSignal, warn } from '../run.js';
import { VERSION as version } from '../version.js';
import { shuttingDownLine } from './service-summary.js';

interface ClientFlags {
  time: number;
  omit: number;
  parallel: number;
  reverse?: boolean;
  bidir?: boolean;
  length?: number;
  udp?: boolean;
  bitrate?: number;
  interval: number;
  json?: boolean;
  jsonStream?: boolean;
  responsiveness: boolean;
  udpCounters64bit?: boolean;
  getServerOutput?: boolean;
  timeout: number;
  threads: number;
}

interface ServeFlags extends LimitFlags {
  grace: number;
  ipv6Only?: boolean;
  setupTimeout: number;
}

export function perfCommand(): Command {
  const command = new Command('perf')
    .description(
      'Measure a network path, speaking iperf3’s protocol: works against `iperf3 -s` and against ' +
        '`sockkit perf serve`, which serves many tests at once. Against a sockkit server the client ' +
        'also times round trips on a separate connection, idle and under load (RPM). The report ' +
        'goes to stdout; --json prints one object in iperf3’s -J shape, --json-stream one line per ' +
        'interval as it happens.',
    )
    .argument('<url>', 'the server: tcp://host:port (iperf3’s port is 5201)')
    .addOption(
      new Option('-t, --time <duration>', 'how long to measure')
        .default(10, formatDuration(10_000))
        .argParser(seconds('--time')),
    )
    .addOption(
      new Option('-O, --omit <duration>', 'warm-up at the start, not counted')
        .default(0, formatDuration(0))
        .argParser(seconds('--omit')),
    )
    .addOption(
      new Option('-P, --parallel <n>', 'streams (in each direction)')
        .default(1)
        .argParser((v) => parseCount(v, '--parallel', 1, 128)),
    )
    .option('-R, --reverse', 'the server sends, the client receives')
    .option('--bidir', 'both send at once')
    .addOption(
      new Option('-l, --length <size>', 'bytes per write (TCP) or per datagram (UDP)')
        .default(
          undefined,
          `${formatSize(DEFAULT_TCP_BLOCK)} for TCP, ${formatSize(DEFAULT_UDP_BLOCK)} for UDP`,
        )
        .argParser((v) => parseSize(v, '--length')),
    )
    .option('-u, --udp', 'UDP streams at --bitrate, with loss, jitter and reordering')
    .addOption(
      new Option('-b, --bitrate <bits/s>', 'target per stream: 10M, 1G, 0 for unlimited')
        .default(undefined, '1M for UDP, unlimited for TCP')
        .argParser(parseBitrate),
    )
    .addOption(
      new Option('-i, --interval <duration>', 'seconds between interval reports, 0 for none')
        .default(...durationDefault(1000))
        .argParser(durationOption('--interval')),
    )
    .option('-J, --json', 'one JSON object in iperf3’s -J shape at the end, on stdout')
    .option('--json-stream', 'one JSON line per event (start, each interval, end) as it happens')
    .addOption(
      new Option('--threads <n>', 'worker threads to spread TCP streams over (one core each)')
        .default(1)
        .argParser((v) => parseCount(v, '--threads', 1, 256)),
    )
    .option('--no-responsiveness', 'do not measure round trips, even against a sockkit server')
    .option('--udp-counters-64bit', 'UDP: 64-bit sequence numbers')
    .option('--get-server-output', 'ask the server for its own report')
    .addOption(
      new Option('--timeout <duration>', 'bound on each step outside the measured time')
        .default(...durationDefault(10_000))
        .argParser(durationOption('--timeout')),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit perf serve                                   # tcp://[::]:5201 and udp on the same port
  sockkit perf tcp://127.0.0.1:5201                    # 10 s, one TCP stream, client sends
  sockkit perf tcp://127.0.0.1:5201 -t 5s -P 4 -R      # 4 streams, server sends
  sockkit perf tcp://127.0.0.1:5201 --bidir -i 500ms
  sockkit perf tcp://127.0.0.1:5201 -u -b 100M -l 1400 # UDP: loss, jitter, out of order
  sockkit perf tcp://192.0.2.2:5201 -P 8 --threads 2   # 8 streams on two cores
  sockkit perf tcp://iperf.example.net:5201 --json     # against iperf3 -s, iperf3's JSON
  iperf3 -c 127.0.0.1 -p 5201 -P 4                     # iperf3 against sockkit perf serve

See docs/perf.md for how to read the figures and which iperf3 options are supported.`,
    )
    .action(async (url: string, flags: ClientFlags, cmd: Command) => {
      await runClient(url, flags, cmd);
    });
  command.addCommand(serveSubcommand());
  return command;
}

function serveSubcommand(): Command {
  const command = new Command('serve')
    .summary('run a perf server that many clients can use at once')
    .description(
      'Serve iperf3 and sockkit perf clients, any number of tests at once, each independent, on ' +
        'every URL given (TCP, and UDP on the same port), until SIGINT/SIGTERM. One line per finished ' +
        'test on stderr.',
    )
    .argument('[url...]', 'addresses to listen on', ['tcp://[::]:5201'])
    .addOption(
      new Option('--grace <duration>', 'time running tests get to finish at shutdown')
        .default(...durationDefault(5000))
        .argParser(durationOption('--grace')),
    )
    .addOption(
      new Option('--setup-timeout <duration>', 'bound on each step a client takes before and after its test')
        .default(...durationDefault(10_000))
        .argParser(durationOption('--setup-timeout')),
    )
    .option('--ipv6-only', 'keep [::] to IPv6 instead of dual-stack')
    .addHelpText(
      'after',
      `
Examples:
  sockkit perf serve
  sockkit perf serve tcp://127.0.0.1:5201 tcp://[::1]:5201 --trace
  sockkit perf serve tcp://0.0.0.0:5201 --allow 198.51.100.0/24 --max-per-ip 8 --grace 2s`,
    )
    .action(async (urls: string[], flags: ServeFlags, cmd: Command) => {
      await runServer(urls, flags, cmd);
    });
  return withLimitOptions(command, 'perf serve');
}

async function runServer(urls: readonly string[], flags: ServeFlags, command: Command): Promise<void> {
  const addresses = urls.map((url) => addressArg('perf serve', url, ['tcp']) as InetAddress);
  const guard = guardFor(flags, command);
  const trace = tracerFor(command, 'server');
  const signal = shutdownSignal(() => warn(shuttingDownLine(true, flags.grace)));
  const listeners: PerfListeners[] = [];
  for (const address of addresses) {
    const bound = await listenPerf(address, { signal, trace, guard, ipv6Only: flags.ipv6Only });
    listeners.push(bound);
    announceListening([...bound.listener.addresses, ...bound.packetConns.map((c) => c.localAddress)]);
  }
  const summary = await servePerf(listeners, {
    signal,
    grace: flags.grace,
    setupTimeout: flags.setupTimeout,
    onTest: (test) => warn(testLine(test)),
  });
  warn(
    `served ${plural(summary.tests, 'test')} (${summary.failed} failed), ` +
      `refused ${summary.refused} connections without a test; ${limitSummary(guard.stats)}`,
  );
}

/** testLine is the server's one line about a finished test. */
function testLine(test: ServerTestSummary): string {
  const p = test.params;
  const what = p
    ? `${p.protocol} ${p.direction}, ${plural(p.parallel, 'stream')}${p.sockkit ? ' (sockkit client)' : ''}`
    : 'before its parameters were accepted';
  if (test.error) return `perf ${test.peer}: ${what}: ${test.error.reason}`;
  const rate = (bytes: number) => formatBitrate(test.seconds > 0 ? (bytes * 8) / test.seconds : 0);
  return (
    `perf ${test.peer}: ${what}: ${formatBytes(test.bytesReceived)} in (${rate(test.bytesReceived)}), ` +
    `${formatBytes(test.bytesSent)} out (${rate(test.bytesSent)}) in ${test.seconds.toFixed(2)} s`
  );
}

async function runClient(url: string, flags: ClientFlags, command: Command): Promise<void> {
  const address = addressArg('perf', url, ['tcp']) as InetAddress;
  if (flags.reverse && flags.bidir) throw new UsageError('perf', '--reverse and --bidir exclude each other');
  if (flags.json && flags.jsonStream)
    throw new UsageError('perf', '--json and --json-stream exclude each other');
  const signal = shutdownSignal();
  const udp = flags.udp === true;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const event = (name: string, data: unknown) => out(JSON.stringify({ event: name, data }));
  const human = !flags.json && !flags.jsonStream;
  const report: PerfReport = await perfClient(address, {
    protocol: udp ? 'udp' : 'tcp',
    duration: flags.time,
    omit: flags.omit,
    parallel: flags.parallel,
    direction: flags.bidir ? 'bidir' : flags.reverse ? 'reverse' : 'forward',
    blockLength: flags.length,
    bitrate: flags.bitrate,
    interval: flags.interval / 1000,
    udpCounters64bit: flags.udpCounters64bit,
    getServerOutput: flags.getServerOutput,
    responsiveness: flags.responsiveness,
    timeout: flags.timeout,
    threads: flags.threads,
    signal,
    trace: tracerFor(command, 'client'),
    onStart: (start) => {
      if (flags.jsonStream) event('start', iperfJsonStart(start, version));
      else if (human) printStart(start, out);
    },
    onInterval: (interval) => {
      if (flags.jsonStream) event('interval', iperfJsonInterval(interval, udp));
      else if (human) printInterval(interval, udp, out);
    },
  });
  if (flags.json) out(JSON.stringify(iperfJson(report, version), null, 2));
  else if (flags.jsonStream) event('end', iperfJsonEnd(report));
  else printEnd(report, out);
  // A signal ended the test early: the report above is what was measured until then (exit 0, as
  // every run that reports; a second signal ends the process at once).
  if (report.partial)
    warn(
      `perf ${report.start.url}: interrupted after ${report.seconds.toFixed(2)} s of ` +
        `${report.start.params.duration} s: the summary is partial (this side's figures only)`,
    );
}

function printStart(start: PerfStart, out: (line: string) => void): void {
  const p = start.params;
  out(
    `Connecting to ${start.url}: ${p.protocol.toUpperCase()}, ${plural(p.parallel, 'stream')}, ` +
      `${p.direction}, ${p.duration} s${p.omit ? ` after ${p.omit} s of warm-up` : ''}` +
      (start.sockkitServer ? ' (sockkit server: measuring responsiveness)' : ''),
  );
  for (const s of start.streams) {
    out(
      `[${pad(s.id, 3)}] local ${s.localHost} port ${s.localPort} connected to ${s.remoteHost} port ${s.remotePort}` +
        ` (${s.sender ? 'sending' : 'receiving'})`,
    );
  }
  out('[ ID] Interval           Transfer     Bitrate');
}

function printInterval(interval: PerfInterval, udp: boolean, out: (line: string) => void): void {
  const seconds = interval.end - interval.start;
  const when = `${interval.start.toFixed(2).padStart(6)}-${interval.end.toFixed(2).padEnd(6)} sec`;
  for (const s of interval.streams) {
    const extra =
      udp && !s.sender
        ? `  ${(s.jitter * 1000).toFixed(3)} ms  ${s.lost}/${s.packets} lost`
        : udp
          ? `  ${s.packets} datagrams`
          : '';
    out(
      `[${pad(s.id, 3)}] ${when}  ${formatBytes(s.bytes).padStart(10)}  ${formatBitrate(seconds > 0 ? (s.bytes * 8) / seconds : 0).padStart(13)}` +
        `${extra}${interval.omitted ? '  (omitted)' : ''}`,
    );
  }
}

function printEnd(report: PerfReport, out: (line: string) => void): void {
  const udp = report.start.params.protocol === 'udp';
  out('- - - - - - - - - - - - - - - - - - - - - - - - -');
  if (report.partial)
    out(`Partial: interrupted after ${report.seconds.toFixed(2)} s; the server's figures were not exchanged`);
  // Interrupted, only this side's figures are known: the client's sending or its receiving side.
  const known = (clientSide: boolean) => !report.partial || clientSide;
  const line = (
    id: string,
    seconds: number,
    bytes: number,
    extra: string,
    role: string,
    clientSide: boolean,
  ) => {
    if (!known(clientSide)) return;
    out(
      `[${id}]   0.00-${seconds.toFixed(2).padEnd(6)} sec  ${formatBytes(bytes).padStart(10)}  ` +
        `${formatBitrate(seconds > 0 ? (bytes * 8) / seconds : 0).padStart(13)}${extra}  ${role}`,
    );
  };
  const senderSeconds = (clientSends: boolean) =>
    clientSends ? report.seconds : report.serverSeconds || report.seconds;
  for (const s of report.streams) {
    const id = pad(s.id, 3);
    line(
      id,
      senderSeconds(s.sender),
      s.sent.bytes,
      udp ? `  ${s.sent.packets} datagrams` : '',
      'sender',
      s.sender,
    );
    const loss =
      udp && s.sent.packets > 0
        ? `  ${(s.received.jitter * 1000).toFixed(3)} ms  ${s.received.lost}/${s.sent.packets} (${((100 * s.received.lost) / s.sent.packets).toFixed(2)}%) lost, ${s.received.outOfOrder} out of order`
        : '';
    line(id, senderSeconds(!s.sender), s.received.bytes, loss, 'receiver', !s.sender);
  }
  if (report.streams.length > 1) {
    for (const sending of [true, false]) {
      const group = report.streams.filter((s) => s.sender === sending);
      if (group.length === 0) continue;
      const tag = report.start.params.direction === 'bidir' ? (sending ? 'SUM→' : 'SUM←') : 'SUM';
      line(
        tag,
        senderSeconds(sending),
        group.reduce((n, s) => n + s.sent.bytes, 0),
        '',
        'sender',
        sending,
      );
      line(
        tag,
        senderSeconds(!sending),
        group.reduce((n, s) => n + s.received.bytes, 0),
        '',
        'receiver',
        !sending,
      );
    }
  }
  const r = report.responsiveness;
  if (r) {
    out(`Responsiveness (round trips on a separate connection):`);
    out(`  idle        ${rtts(r.idle)}`);
    out(`  under load  ${rtts(r.loaded)}`);
  }
  out(
    `CPU: local ${report.cpu.total.toFixed(1)}% (user ${report.cpu.user.toFixed(1)}%, system ${report.cpu.system.toFixed(1)}%)` +
      (report.partial ? '' : `, remote ${report.remoteCpu.total.toFixed(1)}%`),
  );
  if (report.serverOutput) out(`Server output:\n${report.serverOutput.trimEnd()}`);
}

function rtts(summary: RttSummary): string {
  if (summary.count === 0) return 'no round trips measured';
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return (
    `p50 ${ms(summary.p50)}  p90 ${ms(summary.p90)}  p99 ${ms(summary.p99)}  ` +
    `${Math.round(summary.rpm)} RPM  (${summary.count} round trips)`
  );
}

function pad(id: number, width: number): string {
  return String(id).padStart(width);
}

/** formatBitrate words bits per second: `9.34 Gbit/s`, `850 Mbit/s`. */
function formatBitrate(bitsPerSecond: number): string {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let value = bitsPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value === 0 ? '0' : value.toFixed(value >= 100 ? 0 : 2)} ${units[unit]}`;
}

/** seconds parses a duration flag into seconds (the protocol's unit). */
function seconds(flag: string): (value: string) => number {
  const parse = durationOption(flag);
  return (value) => parse(value) / 1000;
}

/** parseBitrate reads `10M`, `1G`, `500k` or a bare number of bits per second (1000-based, as iperf3). */
function parseBitrate(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)\s*$/i.exec(text);
  if (!match) throw new UsageError('--bitrate', `invalid bitrate "${text}" (expected e.g. 0, 500k, 10M, 1G)`);
  const factor = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * factor);
}
