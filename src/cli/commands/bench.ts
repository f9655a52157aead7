/** `sockkit bench URL`: a load generator for any echo server (tcp, udp, unix, tls). */
import { Command, Option } from 'commander';
import {
  type BenchReport,
  bench,
  benchJson,
  FRAME_NAMES,
  type FrameName,
  formatAddress,
  formatBytes,
  formatDuration,
  type IntervalReport,
  MiB,
  ProtocolError,
  parseCount,
  parseRate,
  parseSize,
} from '../../index.js';
import { addressArg, durationOption } from '../options/common.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import {
  type WebSocketClientFlags,
  webSocketClientOptionsOf,
  withWebSocketClientOptions,
} from '../options/websocket.js';
import { shutdownSignal } from '../run.js';

interface BenchFlags extends TlsClientFlags, WebSocketClientFlags {
  connections: number;
  size: number;
  depth: number;
  duration: number;
  rate: number;
  reconnect?: boolean;
  threads: number;
  lossTimeout: number;
  timeout: number;
  json?: boolean;
  frame?: FrameName;
}

export function benchCommand(): Command {
  return withWebSocketClientOptions(withTlsClientOptions(new Command('bench')))
    .description(
      'Load generator for any echo server. Closed loop (default): each connection keeps --depth ' +
        'messages in flight. Open loop (--rate): messages go out on a fixed schedule and latency is ' +
        'measured from when each was due, so a server that stalls cannot hide it. Every echoed byte ' +
        'is checked; UDP datagrams carry sequence numbers (lost, duplicated, reordered). A run always ' +
        'ends with its report; it exits 1 if a byte came back wrong or unsent, a connection failed ' +
        '(counted by kind: refused, reset, closed, timed out, protocol, ...), a UDP server replied ' +
        'more than it was asked, or nothing came back at all.',
    )
    .argument('<url>', 'the echo server: tcp://, udp://, unix:, tls://, ws:// or wss://')
    .addOption(count('-c, --connections <n>', 'connections (udp: peers, one socket each)', 1, 1, 100_000))
    .addOption(
      new Option('-s, --size <size>', 'bytes per message (udp: at least 8)')
        .default(64, '64')
        .argParser((v) => parseSize(v, '--size', 1, 64 * MiB)),
    )
    .addOption(count('-d, --depth <n>', 'messages in flight per connection (1 = ping-pong)', 1, 1, 10_000))
    .addOption(
      new Option('-t, --duration <duration>', 'how long to run')
        .default(10_000, '10s')
        .argParser(durationOption('--duration', 1)),
    )
    .addOption(
      new Option('-r, --rate <msgs/s>', 'open loop: messages per second in all (10k, 2.5M)')
        .default(0)
        .argParser((v) => parseRate(v, '--rate', 0, 10_000_000)),
    )
    .option(
      '--reconnect',
      'one connection per message (connect, echo, close): connections (TLS: handshakes) per second',
    )
    .addOption(count('--threads <n>', 'worker threads to spread the connections over', 1, 1, 256))
    .addOption(
      new Option('--loss-timeout <duration>', 'udp: a datagram unanswered this long is lost')
        .default(1000, '1s')
        .argParser(durationOption('--loss-timeout', 1)),
    )
    .addOption(
      new Option('-w, --timeout <duration>', 'how long each connect may take')
        .default(5000, '5s')
        .argParser(durationOption('--timeout', 1)),
    )
    .option('--json', 'one JSON object per second on stdout, then the summary object')
    .addOption(
      new Option(
        '--frame <framing>',
        'tcp/unix/tls: frame each message as a line or with a length prefix',
      ).choices(FRAME_NAMES),
    )
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
  sockkit bench unix:/tmp/echo.sock -c 4 --threads 2           # two worker threads
  sockkit bench tls://127.0.0.1:7443 --insecure --reconnect    # TLS handshakes per second
  sockkit bench tls://localhost:7443 --ca ca.pem -c 4 -t 3s    # verify the server's certificate
  sockkit bench tls://127.0.0.1:7443 --fingerprint 3A:91:...:7C # pin a --self-signed server
  sockkit bench tcp://127.0.0.1:65432 -w 1s -t 3s --json | tail -1   # summary as JSON
  sockkit bench ws://127.0.0.1:8080/echo -c 20 -s 1KiB -d 2    # WebSocket: each message one binary message
  sockkit bench wss://127.0.0.1:8443/ --fingerprint 3A:91:...:7C --reconnect   # WebSocket handshakes per second`,
    )
    .action(async (url: string, flags: BenchFlags) => {
      const address = addressArg('bench', url, ['tcp', 'udp', 'unix', 'tls', 'ws', 'wss']);
      const tls = tlsClientOptionsOf(flags, address);
      const ws = webSocketClientOptionsOf(flags, address);
      const progress = !flags.json && process.stderr.isTTY ? new ProgressLine(flags.duration) : undefined;
      const signal = shutdownSignal();
      const report = await bench({
        address,
        connections: flags.connections,
        size: flags.size,
        depth: flags.depth,
        duration: flags.duration,
        rate: flags.rate,
        reconnect: flags.reconnect,
        threads: flags.threads,
        lossTimeout: flags.lossTimeout,
        connectTimeout: flags.timeout,
        tls,
        ws,
        frame: flags.frame,
        signal,
        onInterval: (interval) => {
          if (flags.json)
            process.stdout.write(`${JSON.stringify({ type: 'interval', ...benchJson(interval) })}\n`);
          progress?.update(interval);
        },
      });
      progress?.clear();
      if (flags.json) process.stdout.write(`${JSON.stringify({ type: 'summary', ...benchJson(report) })}\n`);
      else process.stdout.write(formatReport(report, flags.reconnect === true));
      const failure = failureOf(report);
      if (failure) throw new ProtocolError('bench', formatAddress(address), failure);
    });
}

/** failureOf names what makes a run fail (exit 1), or returns undefined for a clean run. */
export function failureOf(report: BenchReport): string | undefined {
  const faults: string[] = [];
  if (report.mismatches > 0) faults.push(`${report.mismatches} echoed messages differed from what was sent`);
  if (report.errors > 0) faults.push(`${report.errors} connection errors (${errorKinds(report)})`);
  if (report.duplicated > 0)
    faults.push(`${report.duplicated} replies more than the requests sent (duplicated)`);
  if (report.messages === 0) faults.push('no message came back');
  return faults.length > 0 ? faults.join(', ') : undefined;
}

/** errorKinds words the report's errors by kind: `2 reset, 1 timed out`. */
function errorKinds(report: BenchReport): string {
  return Object.entries(report.errorsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind.replace('_', ' ')}`)
    .join(', ');
}

/** formatReport is the human summary. */
function formatReport(r: BenchReport, reconnect: boolean): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const loop = r.rate > 0 ? `open loop at ${n(r.rate)} msgs/s` : `depth ${r.depth}`;
  const l = r.latencyUs;
  const lines = [
    `bench ${r.url}: ${r.connections} connections, ${formatBytes(r.size)} messages, ${loop}, ${r.durationS.toFixed(1)} s` +
      (r.threads > 1 ? `, ${r.threads} threads` : ''),
    `  messages   ${n(r.messages)} (${n(r.messagesPerSecond)}/s, ${formatBytes(r.bytesPerSecond)}/s)`,
    ...(reconnect ? [`  connects   ${n(r.connectionsPerSecond)}/s (connect, one echo, close)`] : []),
    `  latency    p50 ${us(l.p50)}  p90 ${us(l.p90)}  p99 ${us(l.p99)}  p99.9 ${us(l.p999)}  max ${us(l.max)}`,
    `  checks     ${n(r.mismatches)} mismatches, ${n(r.errors)} errors` +
      (r.errors > 0 ? ` (${errorKinds(r)})` : '') +
      (r.url.startsWith('udp:')
        ? `, ${n(r.lost)} lost, ${n(r.duplicated)} duplicated, ${n(r.reordered)} reordered`
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
      `\r\x1b[2K${i.elapsedS}s/${formatDuration(this.#duration)}  ${i.messagesPerSecond.toLocaleString('en-US')} msgs/s  ` +
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
