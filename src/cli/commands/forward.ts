/** `sockkit forward LISTEN TARGET...`: port forwarding, with every server flag. */
import { Command, Option } from 'commander';
import {
  type Endpoint,
  type ForwardEvent,
  type ForwardSummary,
  formatBytes,
  formatEndpoint,
  forward,
  parseEndpoint,
  type SocketAddress,
  type TlsClientOptions,
  UsageError,
} from '../../index.js';
import { type CaptureFlags, captureFor, withCaptureOptions } from '../options/capture.js';
import { addressArg, announceListening, durationOption, globalsOf, tracerFor } from '../options/common.js';
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
import { refuseFlagsOutside } from '../options/scheme-flags.js';
import {
  type ClientSocketSettings,
  clientSocketOptionsOf,
  SERVER_SOCKET_FLAGS,
  type ServerSocketFlags,
  serverSocketOptionsOf,
  type TargetSocketFlags,
  targetSocketFlagsOf,
  withClientSocketOptions,
  withServerSocketOptions,
} from '../options/socket.js';
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

interface ForwardFlags
  extends TlsServerFlags,
    LimitFlags,
    CaptureFlags,
    ProxyFlags,
    ServerSocketFlags,
    TargetSocketFlags {
  grace: number;
  connectTimeout: number;
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
        'closed after --idle-timeout of silence (default 60s). ' +
        'SIGINT, SIGTERM and SIGHUP stop it gracefully, with a summary of clients and bytes each way. ' +
        'The server socket flags (--backlog, --keepalive, --nodelay, --ipv6-only) apply to the ' +
        'listener and the clients it accepts; the connections to the targets take the --target-* ' +
        'ones (--target-source, --target-keepalive, --target-nodelay, --target-ttl) and -4/-6.',
    )
    .argument('<listen>', 'where to listen: tcp://, tls://, unix: or udp://')
    .argument('<target...>', 'where to forward: tcp://, tls://, unix:, udp://, exec:PROGRAM or sh:COMMAND')
    .addOption(
      new Option('--grace <duration>', 'time open clients get to finish at shutdown')
        .default(5000, '5s')
        .argParser(durationOption('--grace', 0)),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'bound on connecting to one target')
        .default(10_000, '10s')
        .argParser(durationOption('--connect-timeout', 1)),
    )
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
  sockkit forward tcp://127.0.0.1:8080 tcp://127.0.0.1:80 --pcap clients.pcapng   # what clients said, for Wireshark
  sockkit forward udp://127.0.0.1:5353 udp://127.0.0.1:53 --hexdump   # each client peer's datagrams, both ways
  sockkit forward tcp://[::]:8080 tcp://127.0.0.1:80 --ipv6-only --keepalive 30s --target-source 127.0.0.2
  sockkit forward udp://127.0.0.1:5353 udp://192.0.2.53:53 --target-ttl 4 -4   # upstream datagrams: 4 hops, IPv4`,
    );
  const sockets = withClientSocketOptions(withServerSocketOptions(command), {
    prefix: 'target-',
    sourcePort: false,
    connectTimeout: false,
  });
  return withProxyOption(
    withCaptureOptions(withLimitOptions(withTlsServerOptions(sockets))),
    'forward tcp://127.0.0.1:8080',
  ).action(async (url: string, targetUrls: string[], flags: ForwardFlags, cmd: Command) => {
    const address = addressArg('forward', url, ['tcp', 'tls', 'unix', 'udp']);
    const targets = targetUrls.map(parseEndpoint);
    const socket = serverSocketOptionsOf(flags);
    const targetSocket = targetSocketOptionsOf(cmd, flags, url, targets);
    const tls = await tlsServerOptionsOf(flags, [address]);
    const targetTls = targetTlsOf(flags, targets);
    // --proxy is the way to the targets: each socket target must be one a proxy can reach.
    for (const target of targets) if (target.kind === 'socket') proxyOptionsOf(flags, target.address);
    const trace = tracerFor(cmd, 'forward');
    const guard = guardFor(flags, cmd);
    const datagramGuard = address.scheme === 'udp' ? datagramGuardFor(flags, cmd) : undefined;
    const signal = shutdownSignal(() => warn(shuttingDownLine(true, flags.grace)));
    const capture = captureFor(flags, 'forward');
    const forwarder = await forward(address, targets, {
      signal,
      trace,
      tap: capture?.streamTap,
      tls,
      guard,
      targetTls,
      targetProxy: proxyChainOf(flags),
      targetTcp: targetSocket?.tcp,
      targetFamily: targetSocket?.family,
      ...socket,
      grace: flags.grace,
      connectTimeout: flags.connectTimeout,
      onEvent: reporter(globalsOf(cmd).trace === true),
      report: limitReporter(cmd),
      udp: {
        idleTimeout: flags.idleTimeout,
        maxSessions: flags.maxConnections,
        admit: datagramGuard ? datagramGuard.admit.bind(datagramGuard) : undefined,
        upstream: targetSocket?.packet,
        tap: capture?.packetTap,
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
 * targetSocketOptionsOf reads the socket flags of the connections to the targets (the `--target-*`
 * ones and -4/-6), checked against each socket target. A listener flag given with a LISTEN of
 * another scheme, or a target flag with no target of its schemes, is a usage error naming it.
 */
function targetSocketOptionsOf(
  cmd: Command,
  flags: ForwardFlags,
  url: string,
  targets: readonly Endpoint[],
): ClientSocketSettings | undefined {
  const isListenerFlag = (option: Option) => SERVER_SOCKET_FLAGS.includes(option.long ?? '');
  refuseFlagsOutside(cmd, cmd.options.filter(isListenerFlag), [url]);
  const targetFlags = cmd.options.filter(
    (o) => /^--(no-)?target-/.test(o.long ?? '') || /^-[46]$/.test(o.short ?? ''),
  );
  refuseFlagsOutside(cmd, targetFlags, targets.map(formatEndpoint));
  let settings: ClientSocketSettings | undefined;
  for (const target of targets)
    if (target.kind === 'socket')
      settings = inTargetFlags(() =>
        clientSocketOptionsOf('forward', target.address, targetSocketFlagsOf(flags)),
      );
  return settings;
}

/**
 * inTargetFlags runs `check`, a client command's check, and words its usage error in forward's
 * flags: what a client command calls `--source` or `--ca` is `--target-source`, `--target-ca` here.
 */
function inTargetFlags<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const renamed = (text: string): string => text.replace(/--(?!target-)([a-z])/g, '--target-$1');
    throw new UsageError(renamed(err.op), renamed(err.reason));
  }
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
  return inTargetFlags(() =>
    tlsClientOptionsOf(clientFlags as TlsClientFlags, (tlsTarget as { address: SocketAddress }).address),
  );
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
    `forwarded ${summary.clients} ${what}${summary.clients === 1 ? '' : 's'}, ` +
    `${formatBytes(summary.bytesToTargets)} to targets, ${formatBytes(summary.bytesToClients)} back` +
    (summary.noTarget ? `, ${summary.noTarget} with no target answering` : '') +
    (summary.forciblyClosed ? `, ${summary.forciblyClosed} closed at end of grace` : '') +
    (summary.dropped ? `, ${summary.dropped} datagrams dropped` : '')
  );
}
