/**
 * `sockkit proxy [URL...]`: a SOCKS5 / SOCKS4a / HTTP proxy server, safe by default: open only
 * on loopback, and elsewhere only with logins (`--user`) or client allow rules (`--allow`).
 */
import { Command, Option } from 'commander';
import {
  Credentials,
  DEFAULT_PROXY_CONNECT_TIMEOUT,
  DEFAULT_PROXY_HANDSHAKE_TIMEOUT,
  DestinationRules,
  formatBytes,
  formatDuration,
  formatProxyUrl,
  isLoopbackHost,
  type Listener,
  listen,
  type ProxyLogEvent,
  parseDestinationRule,
  parseProxyUrl,
  parseUser,
  plural,
  printable,
  proxyService,
  resolveHost,
  serve,
  UsageError,
} from '../../index.js';
import { durationDefault, durationOption, tracerFor } from '../options/common.js';
import {
  guardFor,
  type LimitFlags,
  limitReporter,
  limitSummary,
  withLimitOptions,
} from '../options/limits.js';
import { type ProxyFlags, proxyChainOf, withProxyOption } from '../options/proxy.js';
import { shutdownSignal, warn } from '../run.js';
import { shuttingDownLine } from './service-summary.js';

/** DEFAULT_PROXY_URL is where `sockkit proxy` listens when given no URL. */
export const DEFAULT_PROXY_URL = 'socks5://127.0.0.1:1080';

interface ProxyCommandFlags extends LimitFlags, ProxyFlags {
  user?: string[];
  allowDest?: string[];
  denyDest?: string[];
  handshakeTimeout: number;
  connectTimeout: number;
  grace: number;
  ipv6Only?: boolean;
  quiet?: boolean;
}

export function proxyCommand(): Command {
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  const command = new Command('proxy')
    .description(
      'Proxy server: SOCKS5 (CONNECT and UDP ASSOCIATE, RFC 1928, with user/password login), SOCKS4a, ' +
        'and HTTP (CONNECT, and plain http:// requests forwarded). Every listener serves all three: the ' +
        "client's first byte tells which. Safe by default: on loopback it runs open; on any other " +
        'address it refuses to start unless --user or --allow is given. One line per connection on ' +
        'stderr: client, destination, bytes each way, duration, outcome. With --proxy, tunnels go ' +
        'through the chain, and so do UDP ASSOCIATE datagrams when every hop is SOCKS5.',
    )
    .argument('[url...]', 'where to listen: socks5://HOST:PORT, socks4a://HOST:PORT or http://HOST:PORT', [
      DEFAULT_PROXY_URL,
    ])
    .addOption(
      new Option('--user <name:password>', 'require a login (SOCKS5, HTTP basic); repeatable').argParser(
        collect,
      ),
    )
    .addOption(
      new Option(
        '--allow-dest <rule>',
        'only these destinations: CIDR, address, name, *.domain, then :PORTS (80,443,8000-8100); repeatable',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--deny-dest <rule>',
        'never these destinations (same forms; wins over --allow-dest)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--handshake-timeout <duration>',
        'drop a client that has not sent its whole request by then',
      )
        .default(...durationDefault(DEFAULT_PROXY_HANDSHAKE_TIMEOUT))
        .argParser(durationOption('--handshake-timeout', 1)),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'bound on connecting to a destination')
        .default(...durationDefault(DEFAULT_PROXY_CONNECT_TIMEOUT))
        .argParser(durationOption('--connect-timeout', 1)),
    )
    .addOption(
      new Option('--grace <duration>', 'time open tunnels get to finish at shutdown')
        .default(...durationDefault(5000))
        .argParser(durationOption('--grace', 0)),
    )
    .option('--ipv6-only', 'keep [::] to IPv6 instead of dual-stack')
    .option('-q, --quiet', 'no line per connection (limits and the summary are still printed)')
    .addHelpText(
      'after',
      `
Examples:
  sockkit proxy                                        # SOCKS5 (and 4a, HTTP) on 127.0.0.1:1080, open
  sockkit proxy http://127.0.0.1:3128                  # an HTTP proxy: curl --proxy http://127.0.0.1:3128 ...
  sockkit proxy socks5://0.0.0.0:1080 --user alice:s3cret --deny-dest 198.51.100.0/24 --deny-dest '*:25'
  sockkit proxy socks5://[::]:1080 --allow 192.0.2.0/24 --allow-dest '*.example.test:80,443'
  curl --socks5-hostname 127.0.0.1:1080 http://example.test/             # a client`,
    );
  const limitExamples = [
    'sockkit proxy socks5://0.0.0.0:1080 --user alice:s3cret --max-connections 100 --max-per-ip 10 --idle-timeout 5m',
    'sockkit proxy http://[::]:3128 --allow 192.0.2.0/24 --allow 2001:db8::/32 --deny 192.0.2.66',
  ];
  const upstreamExamples = [
    'sockkit proxy socks5://127.0.0.1:1080 --proxy socks5://192.0.2.1:1080   # every tunnel through 192.0.2.1',
    'sockkit proxy http://127.0.0.1:3128 --proxy http://bob:pw@192.0.2.2:3128 --proxy socks5://192.0.2.3:1080',
    'sockkit proxy socks5://127.0.0.1:1080 --proxy socks5://192.0.2.1:1080   # UDP ASSOCIATE through 192.0.2.1 too',
  ];
  return withProxyOption(withLimitOptions(command, 'proxy', limitExamples), 'proxy', upstreamExamples).action(
    async (urls: string[], flags: ProxyCommandFlags, cmd: Command) => runProxy(urls, flags, cmd),
  );
}

async function runProxy(urls: readonly string[], flags: ProxyCommandFlags, command: Command): Promise<void> {
  const places = urls.map((url) => {
    const place = parseProxyUrl(url);
    if (place.username !== undefined)
      throw new UsageError('proxy', `${url}: give logins with --user NAME:PASSWORD, not in the URL`);
    return place;
  });
  const users = new Credentials((flags.user ?? []).map((u) => parseUser(u, '--user')));
  const rules = new DestinationRules(
    (flags.allowDest ?? []).map((r) => parseDestinationRule(r, '--allow-dest')),
    (flags.denyDest ?? []).map((r) => parseDestinationRule(r, '--deny-dest')),
  );
  const upstream = proxyChainOf(flags);
  // Safe by default: an open proxy other hosts can reach is found and abused within hours.
  if (users.size === 0 && (flags.allow ?? []).length === 0) {
    for (const place of places) {
      const ips = await resolveHost(place.host).catch(() => []);
      if (ips.length > 0 && ips.every((ip) => isLoopbackHost(ip.ip))) continue;
      throw new UsageError(
        'proxy',
        `${formatProxyUrl(place)}: refusing to run an open proxy where other hosts can reach it; ` +
          'require a login (--user NAME:PASSWORD) or allow only some clients (--allow CIDR)',
      );
    }
  }
  const guard = guardFor(flags, command);
  const trace = tracerFor(command, 'server');
  const signal = shutdownSignal(() => warn(shuttingDownLine(true, flags.grace)));
  const listeners: Listener[] = [];
  try {
    for (const place of places) {
      const listener = await listen(
        { scheme: 'tcp', host: place.host, port: place.port },
        { signal, trace, guard, ipv6Only: flags.ipv6Only },
      );
      listeners.push(listener);
      // The listener is TCP; the line names it as clients do, by the proxy protocol.
      for (const bound of listener.addresses) {
        if (bound.scheme === 'unix') continue;
        const url = formatProxyUrl({ protocol: place.protocol, host: bound.host, port: bound.port });
        process.stderr.write(`listening on ${url}\n`);
      }
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  const service = proxyService({
    users,
    rules,
    proxy: upstream,
    handshakeTimeout: flags.handshakeTimeout,
    connectTimeout: flags.connectTimeout,
    report: flags.quiet ? undefined : (event) => warn(proxyLogLine(event)),
  });
  const summary = await serve(listeners, service, {
    signal,
    grace: flags.grace,
    report: limitReporter(command),
  });
  warn(
    `served ${plural(summary.connections, 'connection')}` +
      (summary.forciblyClosed ? `, ${summary.forciblyClosed} closed at end of grace` : '') +
      `; ${limitSummary(guard.stats)}`,
  );
}

/**
 * proxyLogLine words one connection's ProxyLogEvent:
 * `proxy 127.0.0.1:53122 socks5 connect example.test:80 user alice: ok, 120 B up, 3.4 KiB down, 1.2s`;
 * an HTTP client's kept-alive connection names its every origin and how many requests it made.
 */
export function proxyLogLine(event: ProxyLogEvent): string {
  const what = [
    `proxy ${event.client}`,
    event.protocol,
    event.command === 'none' ? '' : event.command,
    event.destination ?? '',
    event.requests > 1 ? `(${event.requests} requests)` : '',
    event.user === undefined ? '' : `user ${JSON.stringify(event.user)}`,
  ]
    .filter((part) => part !== '')
    .join(' ');
  // A SOCKS5 name is any bytes the client chose: a line break there would forge a line of the
  // log, an escape would reach the operator's terminal. Every control character shows instead.
  return printable(
    `${what}: ${event.outcome}, ${formatBytes(event.bytesUp)} up, ${formatBytes(event.bytesDown)} down, ` +
      formatDuration(event.durationMs),
  );
}
