/** `sockkit mtr HOST`: every hop's loss and round-trip times, redrawn each round, as mtr shows them. */
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { type HopSummary, type MtrReport, mtr, parseCount, parseSize, UsageError } from '../../index.js';
import { durationDefault, durationOption, tracerFor } from '../options/common.js';
import { familyOf } from '../options/raw-output.js';
import { shutdownSignal, warn } from '../run.js';

interface MtrFlags {
  count?: string;
  interval: number;
  timeout: number;
  maxHops: string;
  size: string;
  report?: boolean;
  json?: boolean;
  tcp?: boolean;
  udp?: boolean;
  port?: string;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** mtrCommand builds `sockkit mtr`. */
export function mtrCommand(): Command {
  return new Command('mtr')
    .description(
      'Probe every hop on the way to HOST once per round (TTL 1 up to the host) and show, for each ' +
        'hop, the share of probes lost and the round-trip times: last, average, best, worst, their ' +
        'standard deviation and jitter (the mean change between consecutive answers), as mtr does. ' +
        'On a terminal the table is redrawn in place after every round until Ctrl-C or --count; ' +
        '--report prints only the final table (as mtr --report; 10 rounds unless --count), and ' +
        '--json one object with every hop. Loss on a link shows on the hop after it and on every ' +
        'hop beyond. Probes are ICMP echo requests, or with --tcp/--udp one flow of SYNs or ' +
        'datagrams to --port, as traceroute sends them. Exit 0 when the host answered, 1 if not.',
    )
    .argument('<host>', 'host name or IP address (IPv4 or IPv6)')
    .addOption(
      new Option('-c, --count <n>', 'rounds to run').default(
        undefined,
        'until Ctrl-C, 10 with --report or --json',
      ),
    )
    .addOption(
      new Option('-i, --interval <duration>', 'time between rounds')
        .default(...durationDefault(1000))
        .argParser(durationOption('--interval', 10, 3_600_000)),
    )
    .addOption(
      new Option('-w, --timeout <duration>', 'how long a probe is waited for before it counts as lost')
        .default(...durationDefault(2000))
        .argParser(durationOption('--timeout', 1, 60_000)),
    )
    .option('-m, --max-hops <n>', 'the largest TTL to probe (1-255)', '30')
    .option('-s, --size <bytes>', 'payload bytes of ICMP and UDP probes', '32')
    .option('-r, --report', 'print only the final table, as mtr --report')
    .option('--json', 'print one JSON object with every hop at the end')
    .option('-T, --tcp', 'TCP SYN probes to --port')
    .option('-U, --udp', 'UDP probes to --port')
    .addOption(
      new Option('-p, --port <port>', 'with --tcp or --udp: the destination port (1-65535)').default(
        undefined,
        '80 with --tcp, 53 with --udp',
      ),
    )
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .addHelpText(
      'after',
      `
Examples:
  sockkit mtr 127.0.0.1                        # redrawn every second; Ctrl-C to stop
  sockkit mtr --report -c 20 -i 200ms 198.51.100.2
  sockkit mtr ::1 --json -c 5
  sockkit mtr --tcp -p 443 --report 127.0.0.1  # the path your TLS connections take

Columns: Loss% (of answered or timed-out probes), Snt (probes settled), Last, Avg, Best, Wrst,
StDev and Javg (mean jitter), in ms. ??? is a hop that never answered.
Raw sockets need root or CAP_NET_RAW (see 'sockkit ping --help').`,
    )
    .action(async (host: string, flags: MtrFlags, command: Command) => {
      const family = familyOf('mtr', flags);
      if (host.includes('://'))
        throw new UsageError('mtr', `${host}: give a host name or IP address, not a URL`);
      if (flags.tcp && flags.udp) throw new UsageError('mtr', '--tcp and --udp exclude each other');
      const protocol = flags.tcp ? 'tcp' : flags.udp ? 'udp' : 'icmp';
      if (protocol === 'icmp' && flags.port !== undefined)
        throw new UsageError('mtr', '--port needs --tcp or --udp (ICMP has no ports)');
      const port = flags.port === undefined ? undefined : parseCount(flags.port, '--port', 1, 65_535);
      const live = process.stdout.isTTY === true && !flags.report && !flags.json;
      const count =
        flags.count === undefined
          ? live
            ? undefined
            : 10
          : parseCount(flags.count, '--count', 1, 1_000_000);
      const run = await mtr(host, {
        count,
        interval: flags.interval,
        timeout: flags.timeout,
        maxHops: parseCount(flags.maxHops, '--max-hops', 1, 255),
        size: parseSize(flags.size, '--size', protocol === 'udp' ? 2 : 0, 65_000),
        protocol,
        port,
        family,
        signal: shutdownSignal(),
        trace: tracerFor(command, 'mtr'),
      });
      const started = new Date();
      let drawn = 0;
      let last: MtrReport | undefined;
      for await (const report of run) {
        last = report;
        if (!live) continue;
        const table = formatTable(report, started);
        // Redraw in place: up over what was drawn last time, then clear to the end of the screen.
        process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}\x1b[J${table}`);
        drawn = table.split('\n').length - 1;
      }
      if (!last) return;
      if (flags.json)
        process.stdout.write(`${JSON.stringify(jsonReport(host, run.address, protocol, port, last))}\n`);
      else if (!live) process.stdout.write(formatTable(last, started));
      if (last.reachedAt === undefined) {
        warn(`mtr ${host}: ${run.address} did not answer within ${run.maxHops} hops`);
        process.exitCode = 1;
      }
    });
}

/** formatTable writes the report as mtr --report does, with a jitter column. */
export function formatTable(report: MtrReport, started: Date): string {
  const head = `HOST: ${hostname()}`.padEnd(34);
  let text = `Start: ${started.toISOString().replace(/\.\d+Z$/, '+0000')}\n`;
  text += `${head}Loss%   Snt   Last   Avg  Best  Wrst StDev  Javg\n`;
  for (const hop of report.hops) text += formatHop(hop);
  return text;
}

function formatHop(hop: HopSummary): string {
  // mtr --report's columns, to the character, and Javg after them.
  const name = `${String(hop.ttl).padStart(3)}.|-- ${hop.address ?? '???'}`.padEnd(33);
  const ms = (value: number | undefined, width = 6): string => (value ?? 0).toFixed(1).padStart(width);
  const figures =
    ms(hop.last, 7) + [hop.avg, hop.best, hop.worst, hop.stdev, hop.jitter].map((v) => ms(v)).join('');
  return `${name}${`${hop.loss.toFixed(1)}%`.padStart(6)}${String(hop.sent).padStart(6)}${figures}\n`;
}

function jsonReport(
  host: string,
  address: string,
  protocol: string,
  port: number | undefined,
  report: MtrReport,
): Record<string, unknown> {
  const round = (value: number | undefined): number | undefined =>
    value === undefined ? undefined : Number(value.toFixed(3));
  return {
    host,
    address,
    protocol,
    ...(port === undefined ? {} : { port }),
    rounds: report.rounds,
    reached: report.reachedAt !== undefined,
    hops: report.hops.map((hop) => ({
      ttl: hop.ttl,
      address: hop.address ?? null,
      addresses: hop.addresses,
      loss: Number(hop.loss.toFixed(1)),
      sent: hop.sent,
      received: hop.received,
      last: round(hop.last),
      avg: round(hop.avg),
      best: round(hop.best),
      worst: round(hop.worst),
      stdev: round(hop.stdev),
      jitter: round(hop.jitter),
    })),
  };
}
