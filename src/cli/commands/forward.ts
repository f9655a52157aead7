/** `sockkit forward LISTEN TARGET...`: port forwarding, with every server flag. */
import { Command, Option } from 'commander';
import {
  datagramPath,
  type Endpoint,
  type ForwardEvent,
  type ForwardSummary,
  formatBytes,
  formatEndpoint,
  forward,
  isWebSocket,
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
import { type FaultFlags, faultInjectionOf, withFaultOptions } from '../options/faults.js';
import {
  datagramGuardFor,
  datagramLimitSummary,
  guardFor,
  type LimitFlags,
  limitReporter,
  limitSummary,
  withLimitOptions,
} from '../options/limits.js';
import { addVerboseFlag, sayDatagramPath } from '../options/packet.js';
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
import {
  type WebSocketBridgeFlags,
  webSocketBridgeOptionsOf,
  withWebSocketBridgeOptions,
} from '../options/websocket.js';
import { shutdownSignal, warn } from '../run.js';
import { RunningPrograms, warnIfShellExposed } from './program-exec.js';
import { shuttingDownLine } from './service-summary.js';

interface ForwardFlags
  extends TlsServerFlags,
    LimitFlags,
    CaptureFlags,
    ProxyFlags,
    FaultFlags,
    WebSocketBridgeFlags,
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
  verbose?: boolean;
}

export function forwardCommand(): Command {
  const command = new Command('forward')
    .description(
      'Port forwarding: every client accepted on LISTEN is joined to a new connection to a TARGET, ' +
        'byte for byte, both ways, half-close included. Several targets take clients round-robin; a ' +
        'target that fails is skipped for the next, and a client no target takes is closed at once. ' +
        'A TARGET may be a program (exec:PROGRAM ARG..., sh:COMMAND): each client gets its own. ' +
        'TLS on either side: tls:// LISTEN terminates it, a tls:// TARGET originates it. ' +
        'WebSocket on either side, as websockify does: a ws:// LISTEN takes browsers, each message ' +
        'passed on as its bytes (text as UTF-8) and the bytes back as binary messages; a ws:// TARGET ' +
        'is sent each chunk as a binary message. A FIN becomes a close (1000) after the data, and a ' +
        'close becomes a FIN. ' +
        'udp:// LISTEN forwards datagrams to udp:// targets: one upstream socket per client peer, ' +
        'closed after --idle-timeout of silence, 60s if not given. ' +
        'SIGINT, SIGTERM and SIGHUP stop it gracefully, with a summary of clients and bytes each way. ' +
        'The server socket flags (--backlog, --keepalive, --nodelay, --ipv6-only) apply to the ' +
        'listener and the clients it accepts; the connections to the targets take the --target-* ' +
        'ones (--target-source, --target-keepalive, --target-nodelay, --target-ttl) and -4/-6.',
    )
    .argument('<listen>', 'where to listen: tcp://, tls://, unix:, ws://, wss:// or udp://')
    .argument(
      '<target...>',
      'where to forward: tcp://, tls://, unix:, ws://, wss://, udp://, exec:PROGRAM or sh:COMMAND',
    )
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
    .option(
      '--target-ca <file>',
      'tls:// and wss:// targets: trust this CA (PEM) instead of the system store',
    )
    .option('--target-servername <name>', 'tls:// and wss:// targets: the name for SNI and verification')
    .option('--target-cert <file>', 'tls:// and wss:// targets: a client certificate (PEM)')
    .option('--target-key <file>', 'tls:// and wss:// targets: the private key of --target-cert (PEM)')
    .option(
      '--target-fingerprint <sha256>',
      'tls:// and wss:// targets: trust exactly this certificate (pinning)',
    )
    .option('--target-insecure', 'tls:// and wss:// targets: do NOT verify the certificate (warns)')
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
  sockkit forward ws://0.0.0.0:8080/ tcp://127.0.0.1:5900 --allow-origin https://app.example.test   # websockify
  sockkit forward wss://0.0.0.0:8443/vnc tcp://127.0.0.1:5900 --self-signed --subprotocol binary   # noVNC over TLS
  sockkit forward tcp://127.0.0.1:9000 ws://127.0.0.1:8080/feed -H 'Authorization: Bearer T'   # a WebSocket to nc
  sockkit forward udp://127.0.0.1:5353 udp://127.0.0.1:53 --hexdump   # each client peer's datagrams, both ways
  sockkit forward tcp://[::]:8080 tcp://127.0.0.1:80 --ipv6-only --keepalive 30s --target-source 127.0.0.2
  sockkit forward udp://127.0.0.1:5353 udp://192.0.2.53:53 --target-ttl 4 -4   # upstream datagrams: 4 hops, IPv4`,
    );
  withFaultOptions(
    command,
    'forward tcp://127.0.0.1:8080 tcp://127.0.0.1:80',
    'forward udp://127.0.0.1:5353 udp://127.0.0.1:53',
  );
  const sockets = withClientSocketOptions(withServerSocketOptions(command), {
    prefix: 'target-',
    sourcePort: false,
    connectTimeout: false,
  });
  return withProxyOption(
    withWebSocketBridgeOptions(
      withCaptureOptions(withLimitOptions(withTlsServerOptions(addVerboseFlag(sockets)))),
    ),
    'forward tcp://127.0.0.1:8080',
  ).action(async (url: string, targetUrls: string[], flags: ForwardFlags, cmd: Command) => {
    const address = addressArg('forward', url, ['tcp', 'tls', 'unix', 'ws', 'wss', 'udp']);
    const targets = targetUrls.map(parseEndpoint);
    const socket = serverSocketOptionsOf(flags);
    const targetSocket = targetSocketOptionsOf(cmd, flags, url, targets);
    const tls = await tlsServerOptionsOf(flags, [address]);
    const targetTls = targetTlsOf(flags, targets);
    // --proxy is the way to the targets: each socket target must be one a proxy can reach.
    for (const target of targets) if (target.kind === 'socket') proxyOptionsOf(flags, target.address);
    const ws = webSocketBridgeOptionsOf(
      flags,
      address,
      targets.flatMap((t) => (t.kind === 'socket' ? [t.address] : [])),
      limitReporter(cmd),
    );
    const trace = tracerFor(cmd, 'forward');
    const guard = guardFor(flags, cmd);
    const datagramGuard = address.scheme === 'udp' ? datagramGuardFor(flags, cmd) : undefined;
    const signal = shutdownSignal(() => warn(shuttingDownLine(true, flags.grace)));
    // A WebSocket's bytes are read by the ws package, past the tap: it would show none of them.
    if (isWebSocket(address) && (flags.hexdump || flags.dump || flags.pcap))
      throw new UsageError(
        'forward',
        `--hexdump, --dump and --pcap see tcp, tls, unix and udp clients, not ${address.scheme}`,
      );
    // The listening side decides the kind: a udp:// forward has udp:// targets only.
    const faults = faultInjectionOf('forward', flags, [url]);
    const capture = captureFor(flags, 'forward');
    // Program targets die with sockkit, however sockkit ends (a second Ctrl-C exits at once).
    const programs = new RunningPrograms();
    const forwarder = await forward(address, targets, {
      signal,
      trace,
      tap: capture?.streamTap,
      tls,
      guard,
      targetTls,
      ws: ws.server,
      targetWs: ws.client,
      targetProxy: proxyChainOf(flags),
      targetTcp: targetSocket?.tcp,
      targetFamily: targetSocket?.family,
      ...socket,
      grace: flags.grace,
      connectTimeout: flags.connectTimeout,
      onProgram: (program) => programs.add(program),
      onPair: faults ? (pair) => faults.streams.filters(pair.clientSide, pair.targetSide) : undefined,
      onEvent: reporter(globalsOf(cmd).trace === true),
      report: limitReporter(cmd),
      udp: {
        idleTimeout: flags.idleTimeout,
        maxSessions: flags.maxConnections,
        admit: datagramGuard ? datagramGuard.admit.bind(datagramGuard) : undefined,
        faults: faults?.datagrams,
        upstream: targetSocket?.packet,
        tap: capture?.packetTap,
      },
    });
    announceListening(forwarder.addresses);
    if (address.scheme === 'udp')
      sayDatagramPath(flags.verbose, [datagramPath(process.env, { traced: !!trace })]);
    if (faults) warn(faults.announcement);
    for (const target of targets)
      if (target.kind === 'program') warnIfShellExposed(forwarder.addresses, target.program);
    const summary = await forwarder.done;
    programs.dispose();
    faults?.close();
    const limits =
      address.scheme === 'udp'
        ? datagramGuard
          ? `; ${datagramLimitSummary(datagramGuard.stats)}`
          : ''
        : `; ${limitSummary(guard.stats)}`;
    warn(`${summaryLine(summary, address)}${limits}`);
    if (faults) warn(faults.summary());
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
  const tlsTarget = targets.find(
    (t) => t.kind === 'socket' && (t.address.scheme === 'tls' || t.address.scheme === 'wss'),
  );
  if (!tlsTarget) {
    const named = Object.entries(given).find(([, v]) => v !== undefined)?.[0];
    if (named) throw new UsageError(`--target-${named}`, 'needs a tls:// or wss:// target');
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
  const what =
    address.scheme === 'udp' ? 'client peer' : isWebSocket(address) ? 'WebSocket client' : 'client';
  return (
    `forwarded ${plural(summary.clients, what)}, ` +
    `${formatBytes(summary.bytesToTargets)} to targets, ${formatBytes(summary.bytesToClients)} back` +
    (summary.noTarget ? `, ${summary.noTarget} with no target answering` : '') +
    (summary.forciblyClosed ? `, ${summary.forciblyClosed} closed at end of grace` : '') +
    (summary.dropped ? `, ${plural(summary.dropped, 'datagram')} dropped` : '')
  );
}
