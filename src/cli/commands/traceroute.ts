/** `sockkit traceroute HOST`: the routers on the way to HOST, from ICMP echo probes with growing TTL. */
import { Command, Option } from 'commander';
import { type Hop, parseCount, parseSize, type Traceroute, traceroute, UsageError } from '../../index.js';
import { durationDefault, durationOption, tracerFor } from '../options/common.js';
import { familyOf, hexdumpWriter } from '../options/raw-output.js';
import { shutdownSignal, warn } from '../run.js';

interface TracerouteFlags {
  maxHops: string;
  firstHop: string;
  queries: string;
  timeout: number;
  size: string;
  ipv4?: boolean;
  ipv6?: boolean;
  hexdump?: boolean;
  json?: boolean;
  tcp?: boolean;
  udp?: boolean;
  port?: string;
}

/** tracerouteCommand builds `sockkit traceroute`. */
export function tracerouteCommand(): Command {
  return new Command('traceroute')
    .description(
      'Send probes to HOST with TTL 1, 2, 3... (hop limit on IPv6). Each router where a probe ' +
        'runs out of TTL answers "time exceeded" and so names itself; the host answers and the ' +
        'trace stops there. One line per hop: its address and the round-trip time of each probe, ' +
        '* for silence, !H !N !P !X for unreachables (as traceroute prints). Probes are ICMP echo ' +
        'requests by default; --tcp sends SYNs to a port (the host answers SYN-ACK if it is open, ' +
        'RST if closed) and --udp datagrams (a closed port answers port unreachable). TCP and UDP ' +
        'traces are Paris-style: every probe has the same addresses and ports, so routers that ' +
        'balance load by flow keep the whole trace on one path, the path your connections take. ' +
        'HOST is a name or an IP address, not a URL. Exit 0 when the host was reached, 1 if not.',
    )
    .argument('<host>', 'host name or IP address (IPv4 or IPv6)')
    .option('-m, --max-hops <n>', 'the largest TTL to try (1-255)', '30')
    .option('-f, --first-hop <n>', 'the TTL to start from', '1')
    .option('-q, --queries <n>', 'probes per hop (1-10)', '3')
    .addOption(
      new Option('-w, --timeout <duration>', 'how long to wait for each probe')
        .default(...durationDefault(3000))
        .argParser(durationOption('--timeout', 1)),
    )
    .option(
      '-s, --size <bytes>',
      'payload bytes per probe (32 makes 60-byte IPv4, 80-byte IPv6 packets)',
      '32',
    )
    .option('-T, --tcp', 'TCP SYN probes to --port; the answer says if the port is open')
    .option('-U, --udp', 'UDP probes to --port')
    .addOption(
      new Option(
        '-p, --port <port>',
        'with --tcp or --udp: the destination port of every probe (1-65535)',
      ).default(undefined, '80 with --tcp, 53 with --udp'),
    )
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .option('--hexdump', 'show every probe and answer, annotated field by field (ICMP probes)')
    .option('--json', 'print one JSON object per hop')
    .addHelpText(
      'after',
      `
Examples:
  sockkit traceroute 127.0.0.1
  sockkit traceroute -6 ::1 --queries 1
  sockkit traceroute 198.51.100.1 --max-hops 5 --timeout 500ms
  sockkit traceroute 198.51.100.1 --first-hop 2 --size 100 -4
  sockkit traceroute 198.51.100.1 -q 1 --hexdump       # the time exceeded messages, field by field
  sockkit traceroute 198.51.100.1 --json
  sockkit traceroute --tcp -p 443 127.0.0.1       # the path to a TCP port; says if it is open
  sockkit traceroute --udp -p 53 ::1 -q 1

Raw sockets need root or CAP_NET_RAW. To let node open them without root:
  sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")"`,
    )
    .action(async (host: string, flags: TracerouteFlags, command: Command) => {
      const family = familyOf('traceroute', flags);
      if (host.includes('://')) {
        throw new UsageError(
          'traceroute',
          `${host}: give a host name or IP address, not a URL (ICMP has no ports)`,
        );
      }
      const maxHops = parseCount(flags.maxHops, '--max-hops', 1, 255);
      const firstHop = parseCount(flags.firstHop, '--first-hop', 1, maxHops);
      const queries = parseCount(flags.queries, '--queries', 1, 10);
      if (flags.tcp && flags.udp) throw new UsageError('traceroute', '--tcp and --udp exclude each other');
      const protocol = flags.tcp ? 'tcp' : flags.udp ? 'udp' : 'icmp';
      if (protocol === 'icmp' && flags.port !== undefined)
        throw new UsageError('traceroute', '--port needs --tcp or --udp (ICMP has no ports)');
      if (protocol !== 'icmp' && flags.hexdump)
        throw new UsageError('traceroute', '--hexdump shows ICMP probes only, not with --tcp or --udp');
      const port = flags.port === undefined ? undefined : parseCount(flags.port, '--port', 1, 65_535);
      const size = parseSize(flags.size, '--size', protocol === 'udp' ? 2 : 0, 65_000);
      const out = (text: string): void => {
        process.stdout.write(text);
      };
      const trace = await traceroute(host, {
        maxHops,
        firstHop,
        queries,
        size,
        timeout: flags.timeout,
        family,
        protocol,
        port,
        signal: shutdownSignal(),
        trace: tracerFor(command, 'traceroute'),
        onWire: flags.hexdump ? hexdumpWriter(out) : undefined,
      });
      if (!flags.json) {
        const to = trace.port === undefined ? '' : ` port ${trace.port} (${protocol})`;
        out(
          `traceroute to ${host} (${trace.address})${to}, ${maxHops} hops max, ${trace.packetSize} byte packets\n`,
        );
      }
      let reached = false;
      let last: Hop | undefined;
      for await (const hop of trace) {
        reached ||= hop.reached;
        last = hop;
        if (flags.json) out(`${JSON.stringify(jsonHop(hop))}\n`);
        else out(formatHop(hop));
      }
      if (protocol === 'tcp' && reached && last && !flags.json) out(portVerdict(trace, last));
      if (!reached) {
        warn(`traceroute ${host}: ${trace.address} not reached within ${maxHops} hops`);
        process.exitCode = 1;
      }
    });
}

/**
 * formatHop writes one hop as traceroute does: the TTL, then for each probe its address (when it
 * differs from the previous probe's) and `0.123 ms`, or `*` for silence, with any !mark.
 */
export function formatHop(hop: Hop): string {
  let line = hop.ttl.toString().padStart(2);
  line += ' ';
  let last: string | undefined;
  for (const probe of hop.probes) {
    if (probe.address === undefined || probe.rtt === undefined) {
      line += ' *';
      continue;
    }
    if (probe.address !== last) line += ` ${probe.address}`;
    last = probe.address;
    line += `  ${probe.rtt.toFixed(3)} ms${probe.mark ? ` ${probe.mark}` : ''}`;
  }
  return `${line}\n`;
}

/** portVerdict says what the target's answers to the SYNs tell of the port. */
function portVerdict(trace: Traceroute, hop: Hop): string {
  const answers = hop.probes.filter((probe) => probe.open !== undefined);
  const open = answers.some((probe) => probe.open);
  return `port ${trace.port} on ${trace.address} is ${open ? 'open (it answered SYN-ACK)' : 'closed (it answered RST)'}\n`;
}

function jsonHop(hop: Hop): Record<string, unknown> {
  return {
    ttl: hop.ttl,
    reached: hop.reached,
    probes: hop.probes.map((probe) => ({
      ...probe,
      rtt: probe.rtt === undefined ? undefined : Number(probe.rtt.toFixed(3)),
    })),
  };
}
