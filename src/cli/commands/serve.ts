/**
 * `sockkit serve SERVICE [URL...]`: one of the classic simple services (echo, discard, chargen,
 * daytime, time) on any mix of TCP, Unix and UDP listeners. `sockkit echo` is its short form.
 */
import { Argument, Command } from 'commander';
import {
  formatAddress,
  isLoopbackHost,
  type Listener,
  listen,
  listenPackets,
  type PacketConn,
  plural,
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
import { addressArg, announceListening, tracerFor } from '../options/common.js';
import { faultInjectionOf } from '../options/faults.js';
import { datagramGuardFor, guardFor, limitReporter, replyBudgetFor } from '../options/limits.js';
import { packetOptionsOf, sayDatagramPath } from '../options/packet.js';
import { type ServiceRunOptions, withServiceOptions } from '../options/service.js';
import { serverSocketOptionsOf } from '../options/socket.js';
import { tlsServerOptionsOf } from '../options/tls.js';
import { shutdownSignal, warn } from '../run.js';
import { faultyService } from './echo-faults.js';
import {
  reportSummary,
  type ServiceSummary,
  serviceSummaryLine,
  shuttingDownLine,
} from './service-summary.js';
import { isWorker, prepareWorker, runWorkers } from './workers.js';
import { webSocketRun } from './ws-serve.js';

/** DEFAULT_ECHO_URL is the introduction's address, where `sockkit echo` listens by default. */
export const DEFAULT_ECHO_URL = 'tcp://127.0.0.1:65432';

/** DEFAULT_SERVICE_URLS are where the other services listen by default: TCP and UDP, free ports. */
const DEFAULT_SERVICE_URLS = ['tcp://127.0.0.1:0', 'udp://127.0.0.1:0'];

export function serveCommand(): Command {
  const list = Object.values(services)
    .map((s) => `  ${s.name.padEnd(8)} ${s.rfc} (port ${s.port}): ${s.summary}`)
    .join('\n');
  const command = new Command('serve')
    .description(
      'Run one of the classic simple services on every URL given (TCP, Unix and UDP alike) until ' +
        'SIGINT, SIGTERM or SIGHUP, then shut down gracefully. `sockkit echo` is the short form of ' +
        '`sockkit serve echo`.',
    )
    .argument('<service>', `one of: ${Object.keys(services).join(', ')}`)
    .addArgument(
      new Argument('[url...]', 'addresses to listen on').default(
        undefined,
        `${DEFAULT_ECHO_URL} for echo, ${DEFAULT_SERVICE_URLS.join(' and ')} for the others`,
      ),
    );
  withServiceOptions(command, 'serve echo');
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
  sockkit serve echo tcp://127.0.0.1:7007 --backlog 4096 --keepalive 30s --no-nodelay
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
 * runService binds every URL (stream listeners for tcp/unix/tls, datagram sockets for udp), prints
 * `listening on URL` for each once all are bound, serves `service` until SIGINT, SIGTERM or SIGHUP,
 * then prints a summary. With `--workers N` it runs N copies of itself instead (workers.ts), and
 * the primary prints one summary for all of them. No URL means the service's default addresses.
 */
export async function runService(
  op: string,
  service: Service,
  urls: readonly string[],
  options: ServiceRunOptions,
  command: Command,
): Promise<void> {
  const given =
    urls.length > 0 ? urls : service === services.echo ? [DEFAULT_ECHO_URL] : DEFAULT_SERVICE_URLS;
  const addresses = given.map((url) => addressArg(op, url, ['tcp', 'unix', 'udp', 'tls', 'ws', 'wss']));
  const faults = faultInjectionOf(op, options, given);
  const served = faults ? faultyService(faults, service, options.workers) : service;
  if (options.workers > 1 && !isWorker()) {
    if (options.selfSigned)
      throw new UsageError(
        '--self-signed',
        'each worker would make its own certificate: use --cert/--key with --workers',
      );
    return runWorkers(op, options.workers, given, options.grace);
  }
  if (isWorker()) prepareWorker();
  const tls = await tlsServerOptionsOf(options, addresses);
  const guard = guardFor(options, command);
  const datagramGuard = datagramGuardFor(options, command);
  const replyBudget = replyBudgetFor(options, command);
  const reportFailure = limitReporter(command);
  const packetOptions = addresses.map((address) => packetOptionsOf(op, address, options));
  const socket = serverSocketOptionsOf(options);
  const trace = tracerFor(command, 'server');
  const listeners: Listener[] = [];
  const packetConns: PacketConn[] = [];
  let webSocketListeners = 0;
  // Only stream connections have a grace period; a workers' primary says this line for all of them.
  const signal = shutdownSignal(() => {
    if (!isWorker()) warn(shuttingDownLine(listeners.length + webSocketListeners > 0, options.grace));
  });
  const webSockets = webSocketRun(served, addresses, options, command, { signal, trace, tls, guard });
  const webSocketAddresses: SocketAddress[] = [];
  for (const [i, address] of addresses.entries()) {
    if (address.scheme === 'ws' || address.scheme === 'wss') {
      webSocketAddresses.push(...(await webSockets.add(address)));
      webSocketListeners += 1;
    } else if (address.scheme === 'udp') {
      packetConns.push(
        ...(await listenPackets(address, { ...packetOptions[i], signal, trace, ipv6Only: socket.ipv6Only })),
      );
    } else {
      listeners.push(await listen(address, { signal, trace, tls, guard, ...socket }));
    }
  }
  // A script waits for these lines: print them only once every listener is up, so a second one
  // that fails to bind leaves nothing announced.
  announceListening([
    ...listeners.flatMap((l) => l.addresses),
    ...webSocketAddresses,
    ...packetConns.map((c) => c.localAddress),
  ]);
  sayDatagramPath(
    options.verbose,
    packetConns.map((c) => c.path),
  );
  warnIfReflector(packetConns, replyBudget);
  if (faults) warn(faults.announcement);
  const [streams, datagrams] = await Promise.all([
    Promise.all([
      listeners.length > 0
        ? serve(listeners, served.stream, { signal, grace: options.grace, report: reportFailure })
        : undefined,
      webSockets.serve(options.grace, reportFailure),
    ]).then(([bytes, messages]) => addSummaries(bytes, messages)),
    packetConns.length > 0
      ? servePackets(packetConns, served.datagram, {
          signal,
          admit: datagramGuard?.admit.bind(datagramGuard),
          replyBudget,
          report: reportFailure,
        })
      : undefined,
  ]);
  const summary: ServiceSummary = {
    ...(streams ? { streams, guard: guard.stats } : {}),
    ...(datagrams ? { datagrams } : {}),
    ...(datagrams && datagramGuard ? { datagramGuard: datagramGuard.stats } : {}),
  };
  faults?.close();
  if (isWorker()) reportSummary(summary);
  else warn(serviceSummaryLine(summary));
  if (faults) warn(faults.summary());
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
          `at most ${plural(budget.perSecond, 'reply', 'replies')} per second per source (--reply-budget N or off)`
      : `warning: ${where} is reachable from other hosts and --reply-budget is off: ` +
          'anyone can aim its replies at a forged sender address',
  );
}
