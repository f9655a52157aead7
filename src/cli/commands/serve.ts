/**
 * `sockkit serve SERVICE [URL...]`: one of the classic simple services (echo, discard, chargen,
 * daytime, time) on any mix of TCP, Unix and UDP listeners. `sockkit echo` is its short form.
 */
import { Command, Option } from 'commander';
import {
  formatAddress,
  formatBytes,
  formatDuration,
  isLoopbackHost,
  type Listener,
  listen,
  listenPackets,
  type PacketConn,
  type PacketServeSummary,
  type ReplyBudget,
  type ServeSummary,
  type Service,
  type SocketAddress,
  serve,
  servePackets,
  serviceNamed,
  services,
  UsageError,
} from '../../index.js';
import { addressArg, announceListening, durationOption, tracerFor } from '../options/common.js';
import {
  datagramGuardFor,
  datagramLimitSummary,
  guardFor,
  type LimitFlags,
  limitReporter,
  limitSummary,
  type ReplyBudgetFlags,
  replyBudgetFor,
  withLimitOptions,
  withReplyBudgetOption,
} from '../options/limits.js';
import { addPacketFlags, type PacketFlags, packetOptionsOf } from '../options/packet.js';
import { type TlsServerFlags, tlsServerOptionsOf, withTlsServerOptions } from '../options/tls.js';
import { withWebSocketServerOptions } from '../options/websocket.js';
import { shutdownSignal, warn } from '../run.js';
import { type WebSocketRunFlags, webSocketRun } from './ws-serve.js';

/** ServiceRunOptions are the flags `serve` and `echo` share. */
export interface ServiceRunOptions
  extends PacketFlags,
    TlsServerFlags,
    LimitFlags,
    ReplyBudgetFlags,
    WebSocketRunFlags {
  grace: number;
  ipv6Only?: boolean;
}

export function serveCommand(): Command {
  const list = Object.values(services)
    .map((s) => `  ${s.name.padEnd(8)} ${s.rfc} (port ${s.port}): ${s.summary}`)
    .join('\n');
  const command = new Command('serve')
    .description(
      'Run one of the classic simple services on every URL given (TCP, Unix and UDP alike) until ' +
        'SIGINT, SIGTERM or SIGHUP, then shut down gracefully as `sockkit echo` does.',
    )
    .argument('<service>', `one of: ${Object.keys(services).join(', ')}`)
    .argument('[url...]', 'addresses to listen on', ['tcp://127.0.0.1:0', 'udp://127.0.0.1:0'])
    .addOption(
      new Option('--grace <duration>', 'time open connections get to finish at shutdown')
        .default(5000, '5s')
        .argParser(durationOption('--grace', 0)),
    )
    .option('--ipv6-only', 'keep [::] to IPv6 instead of dual-stack');
  addPacketFlags(command);
  withReplyBudgetOption(withLimitOptions(withTlsServerOptions(command, 'serve echo'), 'serve echo'));
  withWebSocketServerOptions(command);
  return command
    .addHelpText(
      'after',
      `
Services:
${list}

Examples:
  sockkit serve daytime                                  # TCP and UDP on 127.0.0.1, free ports
  sockkit serve chargen tcp://127.0.0.1:1919 udp://127.0.0.1:1919
  sudo sockkit serve time tcp://0.0.0.0:37 udp://0.0.0.0:37   # the well-known port needs root
  sockkit serve discard udp://[::1]:0 unix:/tmp/discard.sock --trace
  sockkit serve echo tcp://[::]:7007 --ipv6-only --grace 2s
  sockkit serve chargen udp://0.0.0.0:1919 --reply-budget 100   # each source: 100 replies a second
  sockkit serve echo udp://0.0.0.0:5000 --join 233.252.0.1     # also answer the multicast group
  sockkit serve echo udp://0.0.0.0:5000 --join 233.252.0.1 --multicast-interface 192.0.2.10
  sockkit serve echo udp://0.0.0.0:5000 --broadcast --multicast-ttl 2 --no-multicast-loopback
  sockkit serve discard udp://127.0.0.1:9009 --receive-buffer 4MiB   # absorb bursts of 64 KiB datagrams`,
    )
    .action(async (name: string, urls: string[], options: ServiceRunOptions, cmd: Command) => {
      const service = serviceNamed(name);
      if (!service) {
        throw new UsageError(
          'serve',
          `unknown service "${name}" (one of: ${Object.keys(services).join(', ')})`,
        );
      }
      await runService('serve', service, urls, options, cmd);
    });
}

/**
 * runService binds every URL (stream listeners for tcp/unix, datagram sockets for udp), prints
 * `listening on URL` for each, serves `service` until SIGINT, SIGTERM or SIGHUP, then prints a summary.
 */
export async function runService(
  op: string,
  service: Service,
  urls: readonly string[],
  options: ServiceRunOptions,
  command: Command,
): Promise<void> {
  const addresses = urls.map((url) => addressArg(op, url, ['tcp', 'unix', 'udp', 'tls', 'ws', 'wss']));
  const tls = await tlsServerOptionsOf(options, addresses);
  const guard = guardFor(options, command);
  const datagramGuard = datagramGuardFor(options, command);
  const replyBudget = replyBudgetFor(options, command);
  const reportFailure = limitReporter(command);
  const packetOptions = addresses.map((address) => packetOptionsOf(op, address, options));
  const trace = tracerFor(command, 'server');
  const signal = shutdownSignal(() =>
    warn(`shutting down (grace ${formatDuration(options.grace)}; Ctrl-C again to force)`),
  );
  const listeners: Listener[] = [];
  const packetConns: PacketConn[] = [];
  const webSockets = webSocketRun(service, addresses, options, command, { signal, trace, tls, guard });
  for (const [i, address] of addresses.entries()) {
    if (address.scheme === 'ws' || address.scheme === 'wss') await webSockets.add(address);
    else if (address.scheme === 'udp') {
      const conns = await listenPackets(address, {
        ...packetOptions[i],
        signal,
        trace,
        ipv6Only: options.ipv6Only,
      });
      packetConns.push(...conns);
      announceListening(conns.map((c) => c.localAddress as SocketAddress));
    } else {
      const listener = await listen(address, { signal, trace, ipv6Only: options.ipv6Only, tls, guard });
      listeners.push(listener);
      announceListening(listener.addresses);
    }
  }
  warnIfReflector(packetConns, replyBudget);
  const [streams, datagrams] = await Promise.all([
    Promise.all([
      listeners.length > 0
        ? serve(listeners, service.stream, { signal, grace: options.grace, report: reportFailure })
        : undefined,
      webSockets.serve(options.grace, reportFailure),
    ]).then(([bytes, messages]) => addSummaries(bytes, messages)),
    packetConns.length > 0
      ? servePackets(packetConns, service.datagram, {
          signal,
          admit: datagramGuard?.admit.bind(datagramGuard),
          replyBudget,
          report: reportFailure,
        })
      : undefined,
  ]);
  warn(
    `${summaryLine(streams, datagrams)}${streams ? `; ${limitSummary(guard.stats)}` : ''}` +
      (datagrams && datagramGuard ? `; ${datagramLimitSummary(datagramGuard.stats)}` : ''),
  );
}

/** addSummaries adds the summaries of stream and WebSocket listeners; undefined when there was neither. */
function addSummaries(a: ServeSummary | undefined, b: ServeSummary | undefined): ServeSummary | undefined {
  if (!a || !b) return a ?? b;
  return {
    connections: a.connections + b.connections,
    forciblyClosed: a.forciblyClosed + b.forciblyClosed,
    bytesReceived: a.bytesReceived + b.bytesReceived,
    bytesSent: a.bytesSent + b.bytesSent,
  };
}

/**
 * warnIfReflector prints one line when a UDP socket can be reached from other hosts (it is not
 * bound to loopback): a forged sender could aim its replies at a victim. It says what limits them.
 */
function warnIfReflector(conns: readonly PacketConn[], budget: ReplyBudget | undefined): void {
  const exposed = conns.filter((c) => !isLoopbackHost(c.localAddress.host));
  if (exposed.length === 0) return;
  const where = exposed.map((c) => formatAddress(c.localAddress)).join(', ');
  warn(
    budget
      ? `warning: ${where} is reachable from other hosts, where a sender's address can be forged: ` +
          `at most ${budget.perSecond} replies per second per source (--reply-budget N or off)`
      : `warning: ${where} is reachable from other hosts and --reply-budget is off: ` +
          'anyone can aim its replies at a forged sender address',
  );
}

function summaryLine(streams: ServeSummary | undefined, datagrams: PacketServeSummary | undefined): string {
  const parts: string[] = [];
  if (streams) {
    parts.push(
      `${streams.connections} connection${streams.connections === 1 ? '' : 's'}, ${formatBytes(streams.bytesReceived)} in, ` +
        `${formatBytes(streams.bytesSent)} out` +
        (streams.forciblyClosed ? `, ${streams.forciblyClosed} closed at end of grace` : ''),
    );
  }
  if (datagrams) {
    parts.push(
      `${datagrams.datagramsReceived} datagrams in (${formatBytes(datagrams.bytesReceived)}), ` +
        `${datagrams.datagramsSent} out (${formatBytes(datagrams.bytesSent)})` +
        (datagrams.dropped ? `, ${datagrams.dropped} dropped` : '') +
        (datagrams.overBudget ? `, ${datagrams.overBudget} unanswered over the reply budget` : ''),
    );
  }
  return `served ${parts.join('; ')}`;
}
