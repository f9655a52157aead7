/** `sockkit ping HOST`: ICMP echo, read like iputils ping. */
import { Command, Option } from 'commander';
import {
  DEFAULT_PAYLOAD,
  MAX_PAYLOAD,
  type PingEvent,
  PingStatistics,
  type PingSummary,
  parseCount,
  parseSize,
  ping,
  plural,
  UsageError,
} from '../../index.js';
import { durationDefault, durationOption, tracerFor } from '../options/common.js';
import { familyOf, formatRtt, hexdumpWriter } from '../options/raw-output.js';
import { shutdownSignal, warn } from '../run.js';

interface PingFlags {
  count?: string;
  interval: number;
  size: string;
  ttl?: string;
  timeout: number;
  ipv4?: boolean;
  ipv6?: boolean;
  hexdump?: boolean;
  json?: boolean;
}

/** pingCommand builds `sockkit ping`. */
export function pingCommand(): Command {
  return new Command('ping')
    .description(
      'Send ICMP echo requests to HOST and print each reply, the way iputils ping does, then a ' +
        'summary: transmitted, received, % packet loss, rtt min/avg/max/mdev. Packets are built ' +
        'and parsed by sockkit itself on a raw socket. HOST is a name or an IP address, not a URL: ' +
        'ICMP has no ports. Runs until --count requests are answered or timed out, or until Ctrl-C. ' +
        'Exit 0 when any reply came, 1 when none did, 2 for usage errors.',
    )
    .argument('<host>', 'host name or IP address (IPv4 or IPv6)')
    .addOption(new Option('-c, --count <n>', 'stop after N requests').default(undefined, 'until Ctrl-C'))
    .addOption(
      new Option('-i, --interval <duration>', 'time between requests')
        .default(...durationDefault(1000))
        .argParser(durationOption('--interval', 1)),
    )
    .option('-s, --size <bytes>', 'payload bytes after the 8-byte ICMP header', String(DEFAULT_PAYLOAD))
    .option('-t, --ttl <n>', 'IPv4 TTL or IPv6 hop limit of the requests (1-255)')
    .addOption(
      new Option('-W, --timeout <duration>', 'how long to wait for each reply')
        .default(...durationDefault(2000))
        .argParser(durationOption('--timeout', 1)),
    )
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .option('--hexdump', 'show every packet sent and received, annotated field by field')
    .option('--json', 'print one JSON object per event, then one for the summary')
    .addHelpText(
      'after',
      `
Examples:
  sockkit ping 127.0.0.1 --count 3
  sockkit ping ::1 -c 2 --interval 200ms --size 1000
  sockkit ping -6 localhost -c 1 --hexdump        # see each ICMPv6 field
  sockkit ping 198.51.100.1 --ttl 1 -c 1          # "Time to live exceeded" from the first router
  sockkit ping 192.0.2.1 -c 2 --timeout 500ms     # 100% loss, exit 1
  sockkit ping 127.0.0.1 -c 3 --json -4

Raw sockets need root or CAP_NET_RAW. To let node open them without root:
  sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")"
IPv6 replies show no ttl: a raw ICMPv6 socket does not see the hop limit (docs/raw-sockets.md).`,
    )
    .action(async (host: string, flags: PingFlags, command: Command) => {
      const family = familyOf('ping', flags);
      if (host.includes('://'))
        throw new UsageError(
          'ping',
          `${host}: give a host name or IP address, not a URL (ICMP has no ports)`,
        );
      const count =
        flags.count === undefined ? undefined : parseCount(flags.count, '--count', 1, 1_000_000_000);
      // What fits in one packet: IPv4 unless -6 was given (a name is resolved later).
      const size = parseSize(flags.size, '--size', 0, MAX_PAYLOAD[family ?? 4]);
      const ttl = flags.ttl === undefined ? undefined : parseCount(flags.ttl, '--ttl', 1, 255);
      const out = (text: string): void => {
        process.stdout.write(text);
      };
      const signal = shutdownSignal();
      const session = await ping(host, {
        count,
        interval: flags.interval,
        size,
        ttl,
        timeout: flags.timeout,
        family,
        signal,
        trace: tracerFor(command, 'ping'),
        onWire: flags.hexdump ? hexdumpWriter(out) : undefined,
      });
      const headerBytes = session.family === 4 ? 28 : 48;
      if (!flags.json) {
        out(
          session.family === 4
            ? `PING ${host} (${session.address}) ${size}(${size + headerBytes}) bytes of data.\n`
            : `PING ${host}(${session.address}) ${size} data bytes\n`,
        );
      }
      const statistics = new PingStatistics();
      // iputils' "time": from the first request to the last thing that happened, waits excluded.
      let started: number | undefined;
      let lastActivity = 0;
      for await (const event of session) {
        statistics.add(event);
        if (event.type !== 'timeout') lastActivity = performance.now();
        started ??= lastActivity;
        if (flags.json) out(`${JSON.stringify(jsonEvent(event))}\n`);
        else printEvent(event, out);
      }
      const summary = statistics.summary();
      const elapsed = Math.round(lastActivity - (started ?? lastActivity));
      if (flags.json)
        out(
          `${JSON.stringify({ type: 'summary', host, address: session.address, ...jsonSummary(summary), time: elapsed })}\n`,
        );
      else out(formatSummary(host, summary, elapsed));
      if (summary.received === 0) {
        warn(`ping ${host}: no reply (${plural(summary.transmitted, 'request')}, 100% packet loss)`);
        process.exitCode = 1;
      }
    });
}

/** printEvent writes one event as iputils ping would; sent packets print nothing. */
function printEvent(event: PingEvent, out: (text: string) => void): void {
  switch (event.type) {
    case 'reply': {
      const ttl = event.ttl === undefined ? '' : ` ttl=${event.ttl}`;
      const notes = `${event.duplicate ? ' (DUP!)' : ''}${event.corrupted ? ' (wrong data)' : ''}`;
      out(
        `${event.bytes} bytes from ${event.source}: icmp_seq=${event.sequence}${ttl} time=${formatRtt(event.rtt)} ms${notes}\n`,
      );
      break;
    }
    case 'error':
      out(`From ${event.source} icmp_seq=${event.sequence} ${event.text}\n`);
      break;
    case 'timeout':
      out(`no answer yet for icmp_seq=${event.sequence}\n`);
      break;
    case 'send-error':
      warn(`ping: icmp_seq=${event.sequence}: ${event.error.message}`);
      break;
    default:
      break;
  }
}

/** formatSummary writes iputils' closing lines. */
export function formatSummary(host: string, summary: PingSummary, elapsed: number): string {
  const loss = Number(summary.loss.toPrecision(6)); // iputils prints %g
  const extra = `${summary.duplicates ? `, +${summary.duplicates} duplicates` : ''}${summary.errors ? `, +${summary.errors} errors` : ''}`;
  let text =
    `\n--- ${host} ping statistics ---\n` +
    `${summary.transmitted} packets transmitted, ${summary.received} received${extra}, ${loss}% packet loss, time ${elapsed}ms\n`;
  if (summary.rtt) {
    const { min, avg, max, mdev } = summary.rtt;
    text += `rtt min/avg/max/mdev = ${[min, avg, max, mdev].map((ms) => ms.toFixed(3)).join('/')} ms\n`;
  }
  return text;
}

function jsonEvent(event: PingEvent): Record<string, unknown> {
  if (event.type === 'send-error')
    return { type: event.type, sequence: event.sequence, error: event.error.message, code: event.error.code };
  if ('rtt' in event) return { ...event, rtt: microseconds(event.rtt) };
  return { ...event };
}

/** jsonSummary rounds the summary's figures as the events' are: milliseconds to the microsecond, loss as iputils prints it. */
function jsonSummary(summary: PingSummary): Record<string, unknown> {
  const { rtt } = summary;
  return {
    ...summary,
    loss: Number(summary.loss.toPrecision(6)),
    ...(rtt && {
      rtt: {
        min: microseconds(rtt.min),
        avg: microseconds(rtt.avg),
        max: microseconds(rtt.max),
        mdev: microseconds(rtt.mdev),
      },
    }),
  };
}

/** microseconds rounds milliseconds to three decimals, the resolution ping measures with. */
function microseconds(ms: number): number {
  return Number(ms.toFixed(3));
}
