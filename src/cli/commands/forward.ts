/** `sockkit forward LISTEN TARGET...`: port forwarding, with every server flag. */
import { Command, Option } from 'commander';
import {
  type Endpoint,
  type ForwardEvent,
  type ForwardSummary,
  formatBytes,
  forward,
  parseEndpoint,
  plural,
  type SocketAddress,
  type TlsClientOptions,
  UsageError,
} from '../../index.js';
import { type CaptureFlags, captureFor, withCaptureOptions } from '../options/capture.js';
import {
  addressArg,
  announceListening,
  durationDefault,
  durationOption,
  globalsOf,
  tracerFor,
} from '../options/common.js';
import {
  datagramGuardFor,
  datagramLimitSummary,
  guardFor,
  type LimitFlags,
  limitReporter,
  limitSummary,
  withLimitOptions,
} from '../options/limits.js';
import { type ProxyFlags, proxyChainOf, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import {
  type TlsClientFlags,
  type TlsServerFlags,
  tlsClientOptionsOf,
  tlsServerOptionsOf,
  withTlsServerOptions,
} from '../options/tls.js';
import { shutdownSignal, warn } from '../run.js';
import { warnIfShellExposed } from './program-exec.js';
import { shuttingDownLine } from './service-summary.js';

interface ForwardFlags extends TlsServerFlags, LimitFlags, CaptureFlags, ProxyFlags {
  grace: number;
  connectTimeout: number;
  ipv6Only?: boolean;
  targetCa?: string;
  targetServername?: string;
  targetCert?: string;
  targetKey?: string;
  targetFingerprint?: string;
  targetInsecure?: boolean;
}

export function forwardCommand(): Command {
  const command = new Command('forward')
    .description(
      'Port forwarding: every client accepted on LISTEN is joined to a new connection to a TARGET, ' +
        'byte for byte, both ways, half-close included. Several targets take clients round-robin; a ' +
        'target that fails is skipped for the next, and a client no target takes is closed at once. ' +
        'A TARGET may be a program (exec:PROGRAM ARG..., sh:COMMAND): each client gets its own. ' +
        'TLS on either side: tls:// LISTEN terminates it, a tls:// TARGET originates it. ' +
        'udp:// LISTEN forwards datagrams to udp:// targets: one upstream socket per client peer, ' +
        'closed after --idle-timeout of silence, 60s if not given. ' +
        'SIGINT, SIGTERM and SIGHUP stop it gracefully, with a summary of clients and bytes each way.',
    )
    .argument('<listen>', 'where to listen: tcp://, tls://, unix: or udp://')
    .argument('<target...>', 'where to forward: tcp://, tls://, unix:, udp://, exec:PROGRAM or sh:COMMAND')
    .addOption(
      new Option('--grace <duration>', 'time open clients get to finish at shutdown')
        .default(...durationDefault(5000))
        .argParser(durationOption('--grace', 0)),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'bound on connecting to one target')
        .default(...durationDefault(10_000))
        .argParser(durationOption('--connect-timeout', 1)),
    )
    .option('--ipv6-only', 'keep tcp://[::]:PORT to IPv6 instead of dual-stack')
    .option('--target-ca <file>', 'tls:// targets: trust this CA (PEM) instead of the system store')
    .option('--target-servername <name>', 'tls:// targets: the name for SNI and verification')
    .option('--target-cert <file>', 'tls:// targets: a client certificate (PEM)')
    .option('--target-key <file>', 'tls:// targets: the private key of --target-cert (PEM)')
    .option('--target-fingerprint <sha256>', 'tls:// targets: trust exactly this certificate (pinning)')
    .option('--target-insecure', 'tls:// targets: do NOT verify the certificate (warns)')
    .addHelpText(
      'after',
      `
Examples:
  sockkit forward tcp://127.0.0.1:8080 tcp://192.0.2.5:80           # a local port to another host
  sockkit forward tcp://127.0.0.1:8080 tcp://127.0.0.1:9001 tcp://127.0.0.1:9002   # round-robin
  sockkit forward unix:/tmp/db.sock tcp://127.0.0.1:5432             # a Unix socket to TCP
  sockkit forward tls://127.0.0.1:8443 tcp://127.0.0.1:8080 --self-signed   # terminate TLS
  sockkit forward tcp://127.0.0.1:8080 tls://example.test:443 --target-ca ca.pem   # originate TLS
  sockkit forward tcp://127.0.0.1:9000 exec:cat                      # each client its own cat
  sockkit forward udp://127.0.0.1:5353 udp://127.0.0.1:53 --idle-timeout 30s   # UDP
  sockkit forward tcp://127.0.0.1:8080 tcp://127.0.0.1:80 --pcap clients.pcapng   # what clients said, for Wireshark`,
    );
  return withProxyOption(
    withCaptureOptions(withLimitOptions(withTlsServerOptions(command))),
    'forward tcp://127.0.0.1:8080',
  ).action(async (url: string, targetUrls: string[], flags: ForwardFlags, cmd: Command) => {
    const address = addressArg('forward', url, ['tcp', 'tls', 'unix', 'udp']);
    const targets = targetUrls.map(parseEndpoint);
    const tls = await tlsServerOptionsOf(flags, [address]);
    const targetTls = targetTlsOf(flags, targets);
    // --proxy is the way to the targets: each socket target must be one a proxy can reach.
    for (const target of targets) if (target.kind === 'socket') proxyOptionsOf(flags, target.address);
    const trace = tracerFor(cmd, 'forward');
    const guard = guardFor(flags, cmd);
    const datagramGuard = address.scheme === 'udp' ? datagramGuardFor(flags, cmd) : undefined;
    const signal = shutdownSignal(() => warn(shuttingDownLine(true, flags.grace)));
    if (address.scheme === 'udp' && (flags.hexdump || flags.dump || flags.pcap))
      throw new UsageError(
        'forward',
        '--hexdump, --dump and --pcap see stream clients (tcp, tls, unix) only, not udp',
      );
    const capture = captureFor(flags, 'forward');
    const forwarder = await forward(address, targets, {
      signal,
      trace,
      tap: capture?.streamTap,
      tls,
      guard,
      targetTls,
      targetProxy: proxyChainOf(flags),
      ipv6Only: flags.ipv6Only,
      grace: flags.grace,
      connectTimeout: flags.connectTimeout,
      onEvent: reporter(globalsOf(cmd).trace === true),
      report: limitReporter(cmd),
      udp: {
        idleTimeout: flags.idleTimeout,
        maxSessions: flags.maxConnections,
        admit: datagramGuard ? datagramGuard.admit.bind(datagramGuard) : undefined,
      },
    });
    announceListening(forwarder.addresses);
    for (const target of targets)
      if (target.kind === 'program') warnIfShellExposed(forwarder.addresses, target.program);
    const summary = await forwarder.done;
    const limits =
      address.scheme === 'udp'
        ? datagramGuard
          ? `; ${datagramLimitSummary(datagramGuard.stats)}`
          : ''
        : `; ${limitSummary(guard.stats)}`;
    warn(`${summaryLine(summary, address)}${limits}`);
  });
}

/**
 * targetTlsOf reads the `--target-*` flags as the client TLS options of the tls:// targets; it
 * throws UsageError naming the flag when one is given without a tls:// target.
 */
function targetTlsOf(flags: ForwardFlags, targets: readonly Endpoint[]): TlsClientOptions | undefined {
  const given = {
    ca: flags.targetCa,
    servername: flags.targetServername,
    cert: flags.targetCert,
    key: flags.targetKey,
    fingerprint: flags.targetFingerprint,
    insecure: flags.targetInsecure,
  };
  const tlsTarget = targets.find((t) => t.kind === 'socket' && t.address.scheme === 'tls');
  if (!tlsTarget) {
    const named = Object.entries(given).find(([, v]) => v !== undefined)?.[0];
    if (named) throw new UsageError(`--target-${named}`, 'needs a tls:// target');
    return undefined;
  }
  const clientFlags = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  try {
    return tlsClientOptionsOf(
      clientFlags as TlsClientFlags,
      (tlsTarget as { address: SocketAddress }).address,
    );
  } catch (err) {
    // Those checks name the flags of a client command (`--ca`); here they are `--target-ca`.
    if (!(err instanceof UsageError)) throw err;
    const renamed = (text: string): string => text.replace(/--(?!target-)([a-z])/g, '--target-$1');
    throw new UsageError(renamed(err.op), renamed(err.reason));
  }
}

/**
 * reporter prints a client no target took, one line each; with --trace also each target skipped.
 */
function reporter(trace: boolean): (event: ForwardEvent) => void {
  return (event) => {
    if (event.type === 'no-target') {
      const causes = event.errors.map((e) => e.message).join('; ');
      warn(`forward ${event.peer}: no target answered, client closed (${causes})`);
    } else if (trace) {
      process.stderr.write(`[forward] ${event.peer}: ${event.error.message}; trying the next target\n`);
    }
  };
}

function summaryLine(summary: ForwardSummary, address: SocketAddress): string {
  const what = address.scheme === 'udp' ? 'client peer' : 'client';
  return (
    `forwarded ${plural(summary.clients, what)}, ` +
    `${formatBytes(summary.bytesToTargets)} to targets, ${formatBytes(summary.bytesToClients)} back` +
    (summary.noTarget ? `, ${summary.noTarget} with no target answering` : '') +
    (summary.forciblyClosed ? `, ${summary.forciblyClosed} closed at end of grace` : '') +
    (summary.dropped ? `, ${plural(summary.dropped, 'datagram')} dropped` : '')
  );
}
