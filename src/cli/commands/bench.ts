/** `sockkit bench URL`: a load generator for any echo server, or any request/response service (tcp, udp, unix, tls). */
import { Command, Option } from 'commander';
import {
  type BenchOptions,
  type BenchReport,
  benchJson,
  benchRun,
  compareWithBaseline,
  datagramPath,
  FRAME_NAMES,
  type FrameName,
  formatAddress,
  formatBytes,
  formatCount,
  formatDuration,
  type IntervalReport,
  MiB,
  ProtocolError,
  parseCount,
  parseRate,
  parseSize,
  percentileCurve,
  plural,
  type SloTarget,
  sloSearch,
  UsageError,
} from '../../index.js';
import {
  baselineOf,
  DEFAULT_TOLERANCE,
  formatComparisons,
  formatSloStep,
  type OutcomeFlags,
  regressionOf,
  sloStepJson,
  withOutcomeOptions,
  writeHtmlReport,
} from '../options/bench-outcome.js';
import {
  formatMismatches,
  type RequestFlags,
  requestSpecOf,
  withRequestOptions,
} from '../options/bench-request.js';
import { addressArg, durationDefault, durationOption, sizeDefault } from '../options/common.js';
import { delimiterOf, delimiterOption } from '../options/frame.js';
import { addVerboseFlag, sayDatagramPath } from '../options/packet.js';
import { type ProxyFlags, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import { type ClientSocketFlags, clientSocketOptionsOf, withClientSocketOptions } from '../options/socket.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import {
  type WebSocketClientFlags,
  webSocketClientOptionsOf,
  withWebSocketClientOptions,
} from '../options/websocket.js';
import { shutdownSignal } from '../run.js';

interface BenchFlags
  extends TlsClientFlags,
    ProxyFlags,
    ClientSocketFlags,
    RequestFlags,
    OutcomeFlags,
    WebSocketClientFlags {
  connections: number;
  size: number;
  depth: number;
  batch?: boolean;
  duration: number;
  rate: number;
  reconnect?: boolean;
  threads: number;
  lossTimeout: number;
  timeout: number;
  json?: boolean;
  frame?: FrameName;
  delimiter?: Buffer;
  verbose?: boolean;
}

export function benchCommand(): Command {
  // -s is --size here, and many connections cannot share one source port: --source only, no letters.
  const bare = { netcatLetters: false, sourcePort: false, ttl: false, connectTimeout: false };
  const command = withOutcomeOptions(
    withRequestOptions(
      withWebSocketClientOptions(withTlsClientOptions(addVerboseFlag(new Command('bench')))),
    ),
  );
  return withProxyOption(withClientSocketOptions(command, bare), 'bench', [
    'sockkit bench tcp://192.0.2.5:7 --proxy socks5://127.0.0.1:1080 -c 50 -t 5s   # the proxy on the path',
    'sockkit bench tcp://192.0.2.5:7 --proxy http://127.0.0.1:3128 --proxy socks5://192.0.2.1:1080 -c 8',
  ])
    .description(
      'Load generator for any echo server, or with --request any request/response service (Redis, ' +
        'memcached, your own protocol). Closed loop, the default: each connection keeps --depth ' +
        'messages in flight. Open loop (--rate): messages go out on a fixed schedule and latency is ' +
        'measured from when each was due, so a server that stalls cannot hide it. Every echoed byte ' +
        'is checked; UDP datagrams carry sequence numbers (lost, duplicated, reordered). A run always ' +
        'ends with its report; it exits 1 if a byte came back wrong or unsent, a connection failed ' +
        '(counted by kind: refused, reset, closed, timed out, protocol, ...), a UDP server replied ' +
        'more than it was asked, or nothing came back at all.',
    )
    .argument('<url>', 'the server: tcp://, udp://, unix:, tls://, ws:// or wss://')
    .addOption(count('-c, --connections <n>', 'connections (udp: peers, one socket each)', 1, 1, 100_000))
    .addOption(
      new Option('-s, --size <size>', 'bytes per message (udp: at least 8)')
        .default(...sizeDefault(64))
        .argParser((v) => parseSize(v, '--size', 1, 64 * MiB)),
    )
    .addOption(count('-d, --depth <n>', 'messages in flight per connection (1 = ping-pong)', 1, 1, 10_000))
    .option(
      '--batch',
      "tcp/unix/tls: send --depth messages in one write, the next --depth once all are answered (redis-benchmark's -P); without it each reply sends one more",
    )
    .addOption(
      new Option('-t, --duration <duration>', 'how long to run')
        .default(...durationDefault(10_000))
        .argParser(durationOption('--duration', 1)),
    )
    .addOption(
      new Option('-r, --rate <msgs/s>', 'open loop: messages per second in all (10k, 2.5M)')
        .default(0, 'none, a closed loop')
        .argParser((v) => parseRate(v, '--rate', 0, 10_000_000)),
    )
    .option(
      '--reconnect',
      'one connection per message (connect, echo, close): connections (TLS: handshakes) per second',
    )
    .addOption(count('--threads <n>', 'worker threads to spread the connections over', 1, 1, 256))
    .addOption(
      new Option('--loss-timeout <duration>', 'udp: a datagram unanswered this long is lost')
        .default(...durationDefault(1000))
        .argParser(durationOption('--loss-timeout', 1)),
    )
    .addOption(
      new Option('-w, --timeout <duration>', 'how long each connect may take')
        .default(...durationDefault(5000))
        .argParser(durationOption('--timeout', 1)),
    )
    .option('--json', 'one JSON object per second on stdout, then the summary object')
    .addOption(
      new Option(
        '--frame <framing>',
        'tcp/unix/tls: frame each message as a line, with a --delimiter, or with a length prefix (with --request: each request, and where each reply ends)',
      ).choices(FRAME_NAMES),
    )
    .addOption(delimiterOption())
    .addHelpText(
      'after',
      `
Examples:
  sockkit bench tcp://127.0.0.1:65432                          # one connection, ping-pong, 10 s
  sockkit bench tcp://127.0.0.1:65432 -c 50 -s 64 -t 5s        # 50 connections, 64 B ping-pong
  sockkit bench tcp://127.0.0.1:65432 -c 8 -s 64KiB -d 4       # streaming: 4 messages in flight
  sockkit bench tcp://127.0.0.1:65432 --frame len16 -s 100     # each message: 2-byte length + 100 B
  sockkit bench tcp://127.0.0.1:65432 -c 10 --rate 20k         # open loop, 20,000 msgs/s in all
  sockkit bench udp://127.0.0.1:7 -c 50 --loss-timeout 200ms   # UDP, lost/duplicated/reordered
  sockkit bench udp://127.0.0.1:7 -c 50 -v                     # say the datagram path (native batch or dgram)
  sockkit bench unix:/tmp/echo.sock -c 4 --threads 2           # two worker threads
  sockkit bench tls://127.0.0.1:7443 --insecure --reconnect    # TLS handshakes per second
  sockkit bench tls://localhost:7443 --ca ca.pem -c 4 -t 3s    # verify the server's certificate
  sockkit bench tls://127.0.0.1:7443 --fingerprint 3A:91:...:7C # pin a --self-signed server
  sockkit bench tcp://127.0.0.1:65432 -w 1s -t 3s --json | tail -1   # summary as JSON
  sockkit bench tcp://127.0.0.1:65432 --no-nodelay -d 8         # Nagle on: see what it costs
  sockkit bench tcp://localhost:65432 -6 -c 8                   # IPv6 addresses of the name only (-4: IPv4)

Request/response (any service; docs/bench.md):
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -c 50
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -c 50 -d 16   # pipelined
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -c 50 -d 16 --batch   # as redis-benchmark -P 16
  sockkit bench tcp://127.0.0.1:6379 --request 'SET k:{conn} v{seq}\\r\\n' --expect '+OK\\r\\n' -c 8
  sockkit bench tcp://127.0.0.1:11211 --request 'version\\r\\n' --frame line --expect-match '^VERSION '
  sockkit bench tcp://127.0.0.1:9000 --frame len16 --request 'ping {seq}' --expect 'ok:ping {seq}'
  sockkit bench tcp://127.0.0.1:8080 --request 'HEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' --frame delimiter --delimiter '\\r\\n\\r\\n' --expect-match '^HTTP/1.1 200'
  sockkit bench tcp://127.0.0.1:6379 --requests reqs.txt --frame line --rate 20k   # one request a line
  sockkit bench udp://127.0.0.1:5353 --requests queries.txt --reply-size 48        # a datagram each way

Finding the limit, guarding it, showing it:
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -c 8 --slo 'p99<2ms' --slo 'p50<500us'
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -t 5s --json > base.json
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -t 5s --compare base.json --tolerance 15%
  sockkit bench tcp://127.0.0.1:6379 --request 'PING\\r\\n' --expect '+PONG\\r\\n' -c 50 --report run.html
  sockkit bench ws://127.0.0.1:8080/echo -c 20 -s 1KiB -d 2    # WebSocket: each message one binary message
  sockkit bench wss://127.0.0.1:8443/ --fingerprint 3A:91:...:7C --reconnect   # WebSocket handshakes per second`,
    )
    .action(async (url: string, flags: BenchFlags, command: Command) => {
      const address = addressArg('bench', url, ['tcp', 'udp', 'unix', 'tls', 'ws', 'wss']);
      const ws = webSocketClientOptionsOf(flags, address);
      const proxy = proxyOptionsOf(flags, address);
      if (address.scheme === 'udp' && flags.source !== undefined)
        throw new UsageError('bench', '--source: only for tcp:// and tls:// addresses here');
      const socket = clientSocketOptionsOf('bench', address, flags);
      const delimiter = delimiterOf(flags, 'bench');
      const request = requestSpecOf(flags, address.scheme === 'udp');
      const baseline = baselineOf(flags);
      if (address.scheme === 'udp') sayDatagramPath(flags.verbose, [datagramPath()]);
      const options: BenchOptions = {
        address,
        connections: flags.connections,
        size: flags.size,
        depth: flags.depth,
        batch: flags.batch,
        duration: flags.duration,
        rate: flags.rate,
        reconnect: flags.reconnect,
        threads: flags.threads,
        lossTimeout: flags.lossTimeout,
        connectTimeout: flags.timeout,
        tls: tlsClientOptionsOf(flags, address),
        proxy,
        tcp: socket.tcp,
        ws,
        frame: flags.frame,
        delimiter,
        family: socket.family,
        request,
        signal: shutdownSignal(),
      };
      if (flags.slo) {
        if (baseline) throw new UsageError('bench', '--compare compares one run, not an --slo search');
        const stepDefault = command.getOptionValueSource('duration') === 'default';
        return runSloSearch(
          { ...options, duration: stepDefault ? SLO_STEP : flags.duration },
          flags,
          flags.slo,
        );
      }
      const progress = !flags.json && process.stderr.isTTY ? new ProgressLine(flags.duration) : undefined;
      const intervals: IntervalReport[] = [];
      const { report, histogram } = await benchRun({
        ...options,
        onInterval: (interval) => {
          intervals.push(interval);
          if (flags.json)
            process.stdout.write(`${JSON.stringify({ type: 'interval', ...benchJson(interval) })}\n`);
          progress?.update(interval);
        },
      });
      progress?.clear();
      if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...benchJson(report) })}\n`);
      else
        process.stdout.write(
          formatReport(report, flags.reconnect === true, request !== undefined) +
            formatMismatches(report.mismatchSamples, report.mismatches),
        );
      if (flags.report) {
        const curve = percentileCurve(histogram);
        writeHtmlReport(flags.report, { report, intervals, curve, commandLine: commandLine() });
      }
      const failures = [failureOf(report, request !== undefined)];
      if (baseline) {
        const tolerance = flags.tolerance ?? DEFAULT_TOLERANCE;
        const comparisons = compareWithBaseline(baseline, report, tolerance);
        if (!flags.json) process.stdout.write(formatComparisons(comparisons, tolerance));
        failures.push(regressionOf(comparisons));
      }
      const failure = failures.filter(Boolean).join(', ');
      if (failure) throw new ProtocolError('bench', formatAddress(address), failure);
    });
}

/** SLO_STEP is each --slo step's length when -t is not given. */
const SLO_STEP = 2000;

/** runSloSearch runs `--slo`: every step printed as it ends, then the rate found; exit 1 if none passed. */
async function runSloSearch(options: BenchOptions, flags: BenchFlags, targets: SloTarget[]): Promise<void> {
  const progress =
    !flags.json && process.stderr.isTTY ? new ProgressLine(options.duration ?? SLO_STEP) : undefined;
  if (!flags.json)
    process.stdout.write(
      `bench ${formatAddress(options.address)}: searching the highest rate where ${targets.map((t) => t.text).join(', ')}\n`,
    );
  let number = 0;
  const result = await sloSearch({
    ...options,
    slo: targets,
    startRate: flags.rate > 0 ? flags.rate : undefined,
    onInterval: (interval) => progress?.update(interval),
    onStep: (step) => {
      progress?.clear();
      number += 1;
      if (flags.json)
        process.stdout.write(`${JSON.stringify(sloStepJson(step, targets, benchJson(step.report)))}\n`);
      else process.stdout.write(formatSloStep(step, number, targets));
    },
  });
  progress?.clear();
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ type: 'slo_result', rate: result.rate, steps: result.steps.length })}\n`,
    );
  else
    process.stdout.write(
      `  found: ${formatCount(result.rate)} msgs/s meets ${targets.map((t) => t.text).join(', ')}\n`,
    );
  // The report's run charts show the step at the rate found (or the last step, if none passed).
  const shown = result.steps.find((step) => step.passed && step.rate === result.rate) ?? result.steps.at(-1);
  if (flags.report && shown) {
    const { report, intervals, curve } = shown;
    const slo = { targets, steps: result.steps, rate: result.rate };
    writeHtmlReport(flags.report, { report, intervals, curve, commandLine: commandLine(), slo });
  }
  if (result.rate === 0)
    throw new ProtocolError(
      'bench',
      formatAddress(options.address),
      `no rate tried met ${targets.map((t) => t.text).join(', ')}`,
    );
}

/** commandLine is the command as typed, quoted where a shell would need it. */
function commandLine(): string {
  const quote = (word: string): string =>
    /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
  return ['sockkit', ...process.argv.slice(2)].map(quote).join(' ');
}

/** failureOf names what makes a run fail (exit 1), or returns undefined for a clean run. */
export function failureOf(report: BenchReport, requests = false): string | undefined {
  const faults: string[] = [];
  if (report.mismatches > 0 && requests)
    faults.push(`${plural(report.mismatches, 'reply', 'replies')} failed the check`);
  else if (report.mismatches > 0)
    faults.push(`${plural(report.mismatches, 'echoed message')} differed from what was sent`);
  if (report.errors > 0) faults.push(`${plural(report.errors, 'connection error')} (${errorKinds(report)})`);
  if (report.duplicated > 0)
    faults.push(`${plural(report.duplicated, 'reply', 'replies')} more than the requests sent (duplicated)`);
  if (report.messages === 0) faults.push(requests ? 'no reply came back' : 'no message came back');
  return faults.length > 0 ? faults.join(', ') : undefined;
}

/** errorKinds words the report's errors by kind: `2 reset, 1 timed out`. */
function errorKinds(report: BenchReport): string {
  return Object.entries(report.errorsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${formatCount(count)} ${kind.replace('_', ' ')}`)
    .join(', ');
}

/** formatReport is the human summary. */
function formatReport(r: BenchReport, reconnect: boolean, requests: boolean): string {
  const n = formatCount;
  const loop =
    r.rate > 0 ? `open loop at ${n(r.rate)} msgs/s` : `depth ${r.depth}${r.batch ? ' in batches' : ''}`;
  const l = r.latencyUs;
  const what = requests ? 'requests' : `${formatBytes(r.size)} messages`;
  // A run whose every reply failed its check measured nothing: say so before any figure.
  const allFailed =
    r.mismatches > 0 && r.mismatches >= r.messages
      ? [
          `every reply differed from what was sent: ${requests ? 'check --expect' : 'is this an echo server? (--request and --expect load other services)'}`,
        ]
      : [];
  const lines = [
    ...allFailed,
    `bench ${r.url}: ${plural(r.connections, 'connection')}, ${what}, ${loop}, ${r.durationS.toFixed(1)} s` +
      (r.threads > 1 ? `, ${r.threads} threads` : ''),
    `  ${requests ? 'replies ' : 'messages'}   ${n(r.messages)} (${n(r.messagesPerSecond)}/s, ${formatBytes(r.bytesPerSecond)}/s${requests ? ' received' : ''})`,
    ...(reconnect ? [`  connects   ${n(r.connectionsPerSecond)}/s (connect, one echo, close)`] : []),
    r.messages === 0 && l.max === 0
      ? '  latency    n/a (no replies to time)'
      : `  latency    p50 ${us(l.p50)}  p90 ${us(l.p90)}  p99 ${us(l.p99)}  p99.9 ${us(l.p999)}  max ${us(l.max)}`,
    `  checks     ${n(r.mismatches)} mismatches, ${n(r.errors)} errors` +
      (r.errors > 0 ? ` (${errorKinds(r)})` : '') +
      (r.url.startsWith('udp:')
        ? `, ${n(r.lost)} lost, ${n(r.duplicated)} duplicated, ${n(r.reordered)} reordered`
        : requests
          ? `, ${n(r.late)} late, ${n(r.lost)} never answered`
          : ''),
  ];
  return `${lines.join('\n')}\n`;
}

function us(micros: number): string {
  return micros >= 10_000 ? `${(micros / 1000).toFixed(1)} ms` : `${micros} µs`;
}

/** ProgressLine rewrites one line on a terminal's stderr: elapsed, rate, p99. */
class ProgressLine {
  readonly #duration: number;
  constructor(duration: number) {
    this.#duration = duration;
  }
  update(i: IntervalReport): void {
    const faults = i.mismatches + i.errors + i.lost > 0 ? `  faults ${i.mismatches + i.errors + i.lost}` : '';
    process.stderr.write(
      `\r\x1b[2K${i.elapsedS}s/${formatDuration(this.#duration)}  ${formatCount(i.messagesPerSecond)} msgs/s  ` +
        `p99 ${us(i.latencyUs.p99)}  open ${i.openConnections}${faults}`,
    );
  }
  clear(): void {
    process.stderr.write('\r\x1b[2K');
  }
}

function count(flags: string, description: string, fallback: number, min: number, max: number): Option {
  return new Option(flags, description)
    .default(fallback)
    .argParser((v) => parseCount(v, flags.replace(/^-\w, /, '').split(' ')[0], min, max));
}
