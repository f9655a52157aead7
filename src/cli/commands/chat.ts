/**
 * `sockkit chat serve [URL...]` runs a line-based chat broker (for `nc`, `ncat`, `sockkit chat
 * join` and, with `--web`, browsers); `sockkit chat join URL` is its terminal client.
 */
import { Command, Option } from 'commander';
import {
  Broker,
  type ChatWeb,
  type Conn,
  DEFAULT_MAX_LINE,
  DEFAULT_MAX_QUEUE,
  formatCount,
  GiB,
  type Listener,
  listen,
  MIN_LEASE,
  MiB,
  normalizeOrigin,
  normalizeRoom,
  parseCount,
  parseSize,
  plural,
  RedisHub,
  type SocketAddress,
  serve,
  serveChatLines,
  serveChatWeb,
  UsageError,
} from '../../index.js';
import {
  addressArg,
  announceListening,
  durationDefault,
  durationOption,
  sizeDefault,
  tracerFor,
} from '../options/common.js';
import { guardFor, type LimitFlags, limitSummary, withLimitOptions } from '../options/limits.js';
import { type TlsServerFlags, tlsServerOptionsOf, withTlsServerOptions } from '../options/tls.js';
import { shutdownSignal, warn } from '../run.js';
import { chatJoinCommand } from './chat-join.js';

/** DEFAULT_CHAT_URL is where `chat serve` listens when given no URL. */
export const DEFAULT_CHAT_URL = 'tcp://127.0.0.1:7777';

export function chatCommand(): Command {
  return new Command('chat')
    .description(
      'A line-based chat: people connect with nc, ncat, `sockkit chat join` or a browser, pick a ' +
        'nickname and talk in rooms. See docs/chat.md.',
    )
    .addCommand(serveSubcommand())
    .addCommand(chatJoinCommand())
    .addHelpText(
      'after',
      `
Examples:
  sockkit chat serve                               # tcp://127.0.0.1:7777
  nc 127.0.0.1 7777                                # then type; /help lists the commands
  sockkit chat join tcp://127.0.0.1:7777 --nick alice`,
    );
}

interface ServeFlags extends TlsServerFlags, LimitFlags {
  web?: string;
  allowOrigin?: string[];
  redis?: string;
  redisCluster?: boolean;
  redisPrefix: string;
  redisLease: number;
  room: string;
  maxClients: number;
  maxLine: number;
  maxQueue: number;
  floodRate: number;
  floodBurst: number;
  grace: number;
  verbose?: boolean;
}

function serveSubcommand(): Command {
  const command = new Command('serve')
    .summary('run a chat broker')
    .description(
      'Run a chat broker on every URL given (tcp, unix, tls). Each line a client sends goes to its ' +
        'room, prefixed with its nickname; lines starting with / are commands (/nick, /join, /part, ' +
        '/list, /who, /msg, /quit, /help). --web adds a web page and WebSocket endpoint; --redis ' +
        'joins other brokers sharing the same Redis. Limits: the longest line, a flood control that ' +
        'slows (never drops) a fast sender, the most clients, and a bounded queue per client: a client ' +
        'that reads too slowly is disconnected with a reason, and the room carries on.',
    )
    .argument('[url...]', 'addresses to listen on', [DEFAULT_CHAT_URL])
    .option('--web <url|port>', 'also serve the web page and WebSocket endpoint (a port means 127.0.0.1)')
    .addOption(
      new Option(
        '--allow-origin <url>',
        "with --web: also let pages from URL's origin open the WebSocket (repeatable; * for any)",
      ).argParser(allowedOrigin),
    )
    .option('--redis <url>', 'share rooms with other brokers: redis://host:port or unix:/path/redis.sock')
    .option('--redis-cluster', '--redis names one node of a Redis Cluster (redis:// or rediss://)')
    .addOption(
      new Option('--redis-prefix <prefix>', 'prefix of the Redis keys and channel (not empty)')
        .default('sockkit:chat:')
        .argParser(redisPrefix),
    )
    .addOption(
      new Option('--redis-lease <duration>', 'how long the users of a broker that died stay listed')
        .default(...durationDefault(15_000))
        .argParser(durationOption('--redis-lease', MIN_LEASE)),
    )
    .option('--room <name>', 'the room every client starts in', '#lobby')
    .addOption(
      new Option('--max-clients <n>', 'clients at once; the next is told the server is full')
        .default(1000)
        .argParser((v) => parseCount(v, '--max-clients', 1, 1_000_000)),
    )
    .addOption(
      new Option('--max-line <size>', 'the longest line a client may send; longer closes that client')
        .default(...sizeDefault(DEFAULT_MAX_LINE))
        .argParser((v) => parseSize(v, '--max-line', 1, 16 * MiB)),
    )
    .addOption(
      new Option('--max-queue <size>', 'bytes waiting for one slow client before it is disconnected')
        .default(...sizeDefault(DEFAULT_MAX_QUEUE))
        .argParser((v) => parseSize(v, '--max-queue', 1, GiB)),
    )
    .addOption(
      new Option('--flood-rate <lines>', 'lines per second one client may send on average (0: no limit)')
        .default(10)
        .argParser((v) => parseCount(v, '--flood-rate', 0, 1_000_000)),
    )
    .addOption(
      new Option('--flood-burst <lines>', 'lines one client may send at once before --flood-rate applies')
        .default(20)
        .argParser((v) => parseCount(v, '--flood-burst', 1, 1_000_000)),
    )
    .addOption(
      new Option('--grace <duration>', 'time clients get to receive their farewell at shutdown')
        .default(...durationDefault(2000))
        .argParser(durationOption('--grace', 0)),
    )
    .option('-v, --verbose', 'print a line on stderr for each client arriving and leaving (with the reason)')
    .addHelpText(
      'after',
      `
Examples:
  sockkit chat serve                                        # tcp://127.0.0.1:7777
  sockkit chat serve tcp://[::]:7777 unix:/tmp/chat.sock -v  # IPv4+IPv6 and a Unix socket, log arrivals
  sockkit chat serve --web 8080                              # and http://127.0.0.1:8080/ for browsers
  sockkit chat serve --web http://127.0.0.1:8080/            # the same, as the page's address
  sockkit chat serve --web tcp://0.0.0.0:8080 --room '#general'
  sockkit chat serve --web unix:/run/chat.sock --allow-origin https://chat.example  # behind a proxy
  sockkit chat serve tcp://127.0.0.1:7001 --redis redis://127.0.0.1:6379   # broker 1
  sockkit chat serve tcp://127.0.0.1:7002 --redis redis://127.0.0.1:6379   # broker 2, same rooms
  sockkit chat serve --redis unix:/run/redis/redis.sock --redis-prefix team1: --redis-lease 5s
  sockkit chat serve --redis redis://192.0.2.5:7000 --redis-cluster               # any node of a cluster
  sockkit chat serve --max-clients 50 --max-line 512 --max-queue 256KiB --flood-rate 5 --flood-burst 10
  sockkit chat serve tls://127.0.0.1:7443 --self-signed --grace 5s`,
    )
    .action(async (urls: string[], options: ServeFlags, cmd: Command) => {
      const addresses = urls.map((url) => addressArg('chat serve', url, ['tcp', 'unix', 'tls']));
      const room = normalizeRoom(options.room);
      if (!room) throw new UsageError('--room', `invalid room ${JSON.stringify(options.room)}`);
      const web = options.web === undefined ? undefined : webAddress(options.web);
      if (options.allowOrigin && !web) throw new UsageError('--allow-origin', 'needs --web');
      const tls = await tlsServerOptionsOf(options, web ? [...addresses, web] : addresses);
      const guard = guardFor(options, cmd);
      const trace = tracerFor(cmd, 'server');
      const signal = shutdownSignal(() => warn('shutting down (Ctrl-C again to force)'));
      const hub = options.redis ? await connectRedis(options.redis, options) : undefined;
      const log = (line: string): void => void process.stderr.write(`chat: ${line}\n`);
      const broker = await Broker.start({
        hub,
        room,
        maxClients: options.maxClients,
        floodRate: options.floodRate,
        floodBurst: options.floodBurst,
        log: options.verbose ? log : undefined,
      });
      const limits = { maxLineLength: options.maxLine, maxQueue: options.maxQueue };
      const listeners: Listener[] = [];
      let front: ChatWeb | undefined;
      try {
        for (const address of addresses) {
          const listener = await listen(address, { signal, trace, tls, guard });
          listeners.push(listener);
          announceListening(listener.addresses);
        }
        if (web) {
          const listener = await listen(web, { signal, trace, tls, guard });
          // Refusals and handler failures are logged even without -v: they are rare, and they
          // explain a page that cannot connect.
          front = serveChatWeb(broker, [listener], { ...limits, allowOrigins: options.allowOrigin, log });
          announceListening(listener.addresses);
          const at = listener.address;
          if (at.scheme !== 'unix') {
            const host = at.host.includes(':') ? `[${at.host}]` : at.host;
            warn(`web chat at ${at.scheme === 'tls' ? 'https' : 'http'}://${host}:${at.port}/`);
          }
        }
      } catch (err) {
        await Promise.all(listeners.map((l) => l.close()));
        await broker.close();
        throw err;
      }
      signal.addEventListener('abort', () => void front?.close(), { once: true });
      signal.addEventListener('abort', () => void broker.close(), { once: true });
      // serveChatLines does not reject; the catch is a last line of defence for the process.
      const service = (conn: Conn): void =>
        void serveChatLines(broker, conn, limits).catch(() => conn.close());
      const summary = await serve(listeners, service, {
        signal,
        grace: options.grace,
      });
      await front?.close();
      await broker.close();
      warn(
        `chat: ${plural(broker.stats.connections, 'client')} (${formatCount(broker.stats.rejected)} turned away), ` +
          `${plural(broker.stats.messages, 'message')}, ${plural(broker.stats.delivered, 'line')} delivered; ` +
          `${plural(summary.connections, 'line connection')}; ${limitSummary(guard.stats)}`,
      );
    });
  return withLimitOptions(withTlsServerOptions(command, 'chat serve'), 'chat serve');
}

/** redisPrefix reads `--redis-prefix`: any text but the empty string, which is no hash tag. */
function redisPrefix(value: string): string {
  if (value === '') throw new UsageError('--redis-prefix', 'must not be empty');
  return value;
}

/**
 * connectRedis opens the hub of `--redis`, and prints one line each time the shared directory
 * becomes unavailable and is back (the broker keeps serving its own users meanwhile).
 */
async function connectRedis(url: string, options: ServeFlags): Promise<RedisHub> {
  if (options.redisCluster && !/^rediss?:\/\//.test(url)) {
    throw new UsageError(
      '--redis',
      `--redis-cluster takes a redis:// or rediss:// URL of one node (got ${url})`,
    );
  }
  return RedisHub.connect(url, {
    prefix: options.redisPrefix,
    lease: options.redisLease,
    cluster: options.redisCluster,
    onAvailability: (change) =>
      warn(
        change.available
          ? `chat: shared directory at ${url} is back with this broker's ${change.nicks} users ` +
              `(${change.rejoined} room memberships written back)`
          : `chat: shared directory at ${url} unavailable (${change.reason}); ` +
              "serving this broker's users only until it is back",
      ),
  });
}

/** allowedOrigin reads one `--allow-origin`: an http(s) origin, or `*`; repeated, they add up. */
function allowedOrigin(value: string, previous: string[] = []): string[] {
  try {
    return [...previous, normalizeOrigin(value)];
  } catch (err) {
    throw new UsageError('--allow-origin', (err as Error).message);
  }
}

/**
 * webAddress reads `--web`: a bare port means 127.0.0.1; `http://HOST:PORT/` and
 * `https://HOST:PORT/` (the form the server prints its page as) mean tcp:// and tls://; anything
 * else is a stream URL.
 */
function webAddress(value: string): SocketAddress {
  if (/^\d+$/.test(value)) {
    return addressArg('--web', `tcp://127.0.0.1:${parseCount(value, '--web', 0, 65535)}`, ['tcp']);
  }
  const page = /^(https?):\/\/([^/]*)(\/.*)?$/i.exec(value);
  if (page) {
    const [, scheme, authority, path] = page as unknown as [string, string, string, string | undefined];
    if (path !== undefined && path !== '/')
      throw new UsageError(
        '--web',
        `the page is served at / only, not ${path}: use ${scheme}://${authority}/`,
      );
    return addressArg('--web', `${scheme.toLowerCase() === 'https' ? 'tls' : 'tcp'}://${authority}`, [
      'tcp',
      'tls',
    ]);
  }
  return addressArg('--web', value, ['tcp', 'unix', 'tls']);
}
