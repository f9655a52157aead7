/** `sockkit scan HOST PORTS`: which ports accept a connection, as `nc -z` is used to check. */
import { Command, Option } from 'commander';
import {
  formatDuration,
  type PortResult,
  parseCount,
  parsePorts,
  plural,
  scan,
  UsageError,
} from '../../index.js';
import { durationDefault, durationOption } from '../options/common.js';
import { readOptionFile } from '../options/option-file.js';
import { familyOf } from '../options/raw-output.js';
import { sourceAddress } from '../options/socket.js';
import { shutdownSignal, warn } from '../run.js';

interface ScanFlags {
  timeout: number;
  concurrency?: string;
  retries: string;
  all?: boolean;
  json?: boolean;
  udp?: boolean;
  tls?: boolean;
  servername?: string;
  ca?: string;
  ipv4?: boolean;
  ipv6?: boolean;
  source?: string;
}

/** scanCommand builds `sockkit scan`. */
export function scanCommand(): Command {
  return new Command('scan')
    .description(
      'Try every port of PORTS on HOST, a few at a time (--concurrency), and print one line per ' +
        'open port; --all prints closed and filtered ports too, with the reason. TCP, the default: a ' +
        'connect scan, as `nc -z` does; no privileges needed. UDP (-u): a port that answers is open, ' +
        'one that provokes an ICMP port unreachable is closed, a silent one is open|filtered. ' +
        '--tls tries a TLS handshake on each open TCP port and names the certificate that answers. ' +
        'HOST is a name or an IP address; PORTS a list of ports and ranges (22,80,8000-8100). ' +
        'A summary goes to stderr. Exit 0 when a port is open, 1 when none is, 2 for usage errors.',
    )
    .argument('<host>', 'host name or IP address')
    .argument('<ports>', 'ports and ranges, comma-separated: 22,80,443,8000-8100')
    .addOption(
      new Option('-w, --timeout <duration>', 'how long each probe waits for an answer')
        .default(...durationDefault(1000))
        .argParser(durationOption('--timeout', 1, 60_000)),
    )
    .addOption(
      new Option('--concurrency <n>', 'probes in flight at once (1-10000)').default(
        undefined,
        '100, 10 with -u',
      ),
    )
    .option('-u, --udp', 'UDP probes instead of TCP connects')
    .option('--retries <n>', 'UDP: probes sent again to a silent port before open|filtered (0-10)', '1')
    .option('--tls', 'try a TLS handshake on each open port and show its certificate')
    .addOption(
      new Option('--servername <name>', '--tls: the name for SNI and the certificate check').default(
        undefined,
        'HOST',
      ),
    )
    .option('--ca <file>', '--tls: verify certificates against this CA (PEM) instead of the system CAs')
    .option('--all', 'print closed and filtered ports too, with the reason')
    .option('--json', 'print one JSON object per port, then one for the summary')
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .addOption(
      new Option(
        '-s, --source <address>',
        'send every probe from this local IP address (nc -z -s)',
      ).argParser((value) => sourceAddress(value)),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit scan 127.0.0.1 1-1024,5432 --timeout 500ms
  sockkit scan localhost 8000-8100 --all --concurrency 20
  sockkit scan ::1 22,80,443 --json
  sockkit scan 127.0.0.1 53,123,5353 -u --all      # open, closed or open|filtered
  sockkit scan 127.0.0.1 443,8443 --tls            # which certificate answers, and is it trusted
  sockkit scan 127.0.0.1 22,80 -s 127.0.0.2        # probe from another local address

States: open; closed (refused: TCP reset, ICMP port unreachable); filtered (no answer to a connect,
or an unreachable from a router); open|filtered (UDP silence: open and quiet, or dropped).`,
    )
    .action(async (host: string, portList: string, flags: ScanFlags) => {
      const family = familyOf('scan', flags);
      if (host.includes('://'))
        throw new UsageError(
          'scan',
          `${host}: give a host name or IP address, not a URL (ports go in PORTS)`,
        );
      const ports = parsePorts(portList, 'scan');
      const concurrency =
        flags.concurrency === undefined
          ? undefined
          : parseCount(flags.concurrency, '--concurrency', 1, 10_000);
      const retries = parseCount(flags.retries, '--retries', 0, 10);
      if (flags.udp && flags.tls) throw new UsageError('scan', '--tls applies to TCP scans, not with -u');
      if (!flags.tls && (flags.servername || flags.ca))
        throw new UsageError('scan', '--servername and --ca apply only with --tls');
      const tls = flags.tls
        ? { servername: flags.servername, ca: flags.ca && readOptionFile('--ca', flags.ca) }
        : undefined;
      const started = performance.now();
      const run = await scan(host, ports, {
        protocol: flags.udp ? 'udp' : 'tcp',
        timeout: flags.timeout,
        concurrency,
        retries,
        family,
        localAddress: flags.source,
        tls: tls && {
          ...(tls.servername ? { servername: tls.servername } : {}),
          ...(tls.ca ? { ca: tls.ca } : {}),
        },
        signal: shutdownSignal(),
      });
      const counts: Record<string, number> = {};
      let scanned = 0;
      for await (const result of run) {
        scanned += 1;
        counts[result.state] = (counts[result.state] ?? 0) + 1;
        if (flags.json) process.stdout.write(`${JSON.stringify(jsonResult(result))}\n`);
        else if (flags.all || result.state === 'open') process.stdout.write(formatResult(result));
      }
      const elapsed = Math.round(performance.now() - started);
      const open = counts.open ?? 0;
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ type: 'summary', host, address: run.address, protocol: flags.udp ? 'udp' : 'tcp', scanned, ...counts, time: elapsed })}\n`,
        );
      }
      const tally = Object.entries(counts)
        .map(([state, count]) => `${count} ${state}`)
        .join(', ');
      const stopped = scanned < ports.length ? ` (stopped after ${scanned} of ${ports.length})` : '';
      warn(
        `scan ${host} (${run.address}): ${plural(scanned, flags.udp ? 'UDP port' : 'TCP port')} scanned in ${formatDuration(elapsed)}${stopped}: ${tally || 'nothing'}`,
      );
      if (open === 0) process.exitCode = 1;
    });
}

/** formatResult writes one port: `22/tcp open connected 0.123 ms`, then what TLS showed. */
export function formatResult(result: PortResult): string {
  let line = `${`${result.port}/${result.protocol}`.padEnd(10)} ${result.state.padEnd(13)} ${result.reason}`;
  if (result.rtt !== undefined) line += ` ${result.rtt.toFixed(3)} ms`;
  const { tls } = result;
  if (tls && !tls.handshake) line += `; no TLS: ${tls.reason}`;
  else if (tls) {
    const names = tls.names?.length ? ` (names: ${tls.names.join(', ')})` : '';
    const trust = tls.verified ? 'verified' : `not verified: ${tls.reason}`;
    line += `; TLS ${tls.version}, certificate ${tls.subject ?? '(no subject name)'}${names}, ${trust}`;
  }
  return `${line}\n`;
}

function jsonResult(result: PortResult): Record<string, unknown> {
  return {
    type: 'port',
    ...result,
    ...(result.rtt === undefined ? {} : { rtt: Number(result.rtt.toFixed(3)) }),
  };
}
