/**
 * `sockkit chat serve [URL...]` runs a line-based chat broker (for `nc`, `ncat`, `sockkit chat
 * join` and, with `--web`, browsers); `sockkit chat join URL` is its terminal client.
 */
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import type { SocketAddress } from '../address.js';
import { Broker } from '../chat/broker.js';
import { normalizeRoom } from '../chat/commands.js';
import { DEFAULT_MAX_LINE, DEFAULT_MAX_QUEUE, serveChatLines } from '../chat/line-session.js';
import { RedisHub } from '../chat/redis-hub.js';
import { type ChatWeb, serveChatWeb } from '../chat/web.js';
import { UsageError } from '../errors.js';
import { FramedConn } from '../framing/framed-conn.js';
import { lineCodec } from '../framing/line.js';
import type { Conn } from '../stream/conn.js';
import { dial } from '../stream/dial.js';
import { type Listener, listen } from '../stream/listen.js';
import { serve } from '../stream/serve.js';
import { formatBytes, parseCount, parseSize } from '../units.js';
import { addressArg, announceListening, durationOption, tracerFor } from './common.js';
import { guardFor, type LimitFlags, limitSummary, withLimitOptions } from './limit-options.js';
import { shutdownSignal, warn } from './run.js';
import {
  type TlsClientFlags,
  type TlsServerFlags,
  tlsClientTransport,
  tlsServerTransport,
  withTlsClientOptions,
  withTlsServerOptions,
} from './tls-options.js';

/** DEFAULT_CHAT_URL is where `chat serve` listens when given no URL. */
export const DEFAULT_CHAT_URL = 'tcp://127.0.0.1:7777';

export function chatCommand(): Command {
  return new Command('chat')
    .summary('a chat server (nc, browsers, Redis scale-out) and its client')
    .description(
      'A line-based chat: people connect with nc, ncat, `sockkit chat join` or a browser, pick a ' +
        'nickname and talk in rooms. See docs/chat.md.',
    )
    .addCommand(serveSubcommand())
    .addCommand(joinSubcommand())
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
  redis?: string;
  redisPrefix?: string;
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
    .option('--redis <url>', 'share rooms with other brokers: redis://host:port or unix:/path/redis.sock')
    .option('--redis-prefix <prefix>', 'prefix of the Redis keys and channel', 'sockkit:chat:')
    .option('--room <name>', 'the room every client starts in', '#lobby')
    .addOption(
      new Option('--max-clients <n>', 'clients at once; the next is told the server is full')
        .default(1000)
        .argParser((v) => parseCount(v, '--max-clients', 1)),
    )
    .addOption(
      new Option('--max-line <size>', 'the longest line a client may send; longer closes that client')
        .default(DEFAULT_MAX_LINE, formatBytes(DEFAULT_MAX_LINE))
        .argParser((v) => positiveSize(v, '--max-line')),
    )
    .addOption(
      new Option('--max-queue <size>', 'bytes waiting for one slow client before it is disconnected')
        .default(DEFAULT_MAX_QUEUE, formatBytes(DEFAULT_MAX_QUEUE))
        .argParser((v) => positiveSize(v, '--max-queue')),
    )
    .addOption(
      new Option('--flood-rate <lines>', 'lines per second one client may send on average (0: no limit)')
        .default(10)
        .argParser((v) => parseCount(v, '--flood-rate')),
    )
    .addOption(
      new Option('--flood-burst <lines>', 'lines one client may send at once before --flood-rate applies')
        .default(20)
        .argParser((v) => parseCount(v, '--flood-burst', 1)),
    )
    .addOption(
      new Option('--grace <duration>', 'time clients get to receive their farewell at shutdown')
        .default(2000, '2s')
        .argParser(durationOption('--grace')),
    )
    .option('-v, --verbose', 'print a line on stderr for each client arriving and leaving (with the reason)')
    .addHelpText(
      'after',
      `
Examples:
  sockkit chat serve                                        # tcp://127.0.0.1:7777
  sockkit chat serve tcp://[::]:7777 unix:/tmp/chat.sock -v  # IPv4+IPv6 and a Unix socket, log arrivals
  sockkit chat serve --web 8080                              # and http://127.0.0.1:8080/ for browsers
  sockkit chat serve --web tcp://0.0.0.0:8080 --room '#general'
  sockkit chat serve tcp://127.0.0.1:7001 --redis redis://127.0.0.1:6379   # broker 1
  sockkit chat serve tcp://127.0.0.1:7002 --redis redis://127.0.0.1:6379   # broker 2, same rooms
  sockkit chat serve --redis unix:/run/redis/redis.sock --redis-prefix team1:
  sockkit chat serve --max-clients 50 --max-line 512 --max-queue 256KiB --flood-rate 5 --flood-burst 10
  sockkit chat serve tls://127.0.0.1:7443 --self-signed --grace 5s`,
    )
    .action(async (urls: string[], options: ServeFlags, cmd: Command) => {
      const addresses = urls.map((url) => addressArg('chat serve', url, ['tcp', 'unix', 'tls']));
      const room = normalizeRoom(options.room);
      if (!room) throw new UsageError('--room', `invalid room ${JSON.stringify(options.room)}`);
      const web = options.web === undefined ? undefined : webAddress(options.web);
      const transport = await tlsServerTransport(options, web ? [...addresses, web] : addresses);
      const guard = guardFor(options, cmd);
      const trace = tracerFor(cmd, 'server');
      const signal = shutdownSignal(() => warn('shutting down (Ctrl-C again to force)'));
      const hub = options.redis
        ? await RedisHub.connect(options.redis, { prefix: options.redisPrefix })
        : undefined;
      const broker = await Broker.start({
        hub,
        room,
        maxClients: options.maxClients,
        floodRate: options.floodRate,
        floodBurst: options.floodBurst,
        log: options.verbose ? (line) => process.stderr.write(`chat: ${line}\n`) : undefined,
      });
      const limits = { maxLineLength: options.maxLine, maxQueue: options.maxQueue };
      const listeners: Listener[] = [];
      let front: ChatWeb | undefined;
      try {
        for (const address of addresses) {
          const listener = await listen(address, { signal, trace, transport, guard });
          listeners.push(listener);
          announceListening(listener.addresses);
        }
        if (web) {
          const listener = await listen(web, { signal, trace, transport, guard });
          front = serveChatWeb(broker, [listener], limits);
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
        `chat: ${broker.stats.connections} clients (${broker.stats.rejected} turned away), ` +
          `${broker.stats.messages} messages, ${broker.stats.delivered} lines delivered; ` +
          `${summary.connections} line connections; ${limitSummary(guard.stats)}`,
      );
    });
  return withLimitOptions(withTlsServerOptions(command, 'chat serve'), 'chat serve');
}

function positiveSize(value: string, flag: string): number {
  const size = parseSize(value, flag);
  if (size < 1) throw new UsageError(flag, `must be at least 1 byte (got ${value})`);
  return size;
}

/** webAddress reads `--web`: a bare port means 127.0.0.1, anything else is a stream URL. */
function webAddress(value: string): SocketAddress {
  if (/^\d+$/.test(value)) {
    return addressArg('--web', `tcp://127.0.0.1:${parseCount(value, '--web', 0, 65535)}`, ['tcp']);
  }
  return addressArg('--web', value, ['tcp', 'unix', 'tls']);
}

interface JoinFlags extends TlsClientFlags {
  nick?: string;
  room?: string;
  timeout?: number;
}

function joinSubcommand(): Command {
  const command = new Command('join')
    .summary('join a chat from the terminal')
    .description(
      'Connect to a chat broker and talk: each line typed goes to your room, lines starting with / ' +
        'are commands (/help). On a terminal, incoming lines print above a prompt that keeps what ' +
        'you are typing. Without a terminal, lines are read from stdin and printed to stdout, for ' +
        'scripts. Exits 0 when the server closes the connection (after /quit, for instance).',
    )
    .argument('<url>', 'the broker, e.g. tcp://127.0.0.1:7777')
    .option('-n, --nick <name>', 'your nickname (otherwise the server names you guestN)')
    .option('--room <name>', 'join this room after connecting')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on connecting').argParser(durationOption('--timeout')),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit chat join tcp://127.0.0.1:7777 --nick alice
  sockkit chat join unix:/tmp/chat.sock -n bob --room '#rust'
  sockkit chat join tls://chat.example:7443 --nick carol --ca ca.pem --timeout 5s
  printf 'hello\\n/quit\\n' | sockkit chat join tcp://127.0.0.1:7777 --nick bot`,
    )
    .action(async (url: string, options: JoinFlags, cmd: Command) => {
      const address = addressArg('chat join', url, ['tcp', 'unix', 'tls']);
      const room = options.room === undefined ? undefined : normalizeRoom(options.room);
      if (options.room !== undefined && !room)
        throw new UsageError('--room', `invalid room ${JSON.stringify(options.room)}`);
      const transport = tlsClientTransport(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(cmd, 'client'),
        transport,
      });
      const framed = new FramedConn(conn, lineCodec({ maxLength: 1024 * 1024 }));
      if (options.nick) framed.write(`/nick ${options.nick}`);
      if (room) framed.write(`/join ${room}`);
      await talk(framed);
      if (conn.error) throw conn.error;
    });
  return withTlsClientOptions(command, 'chat join');
}

/**
 * talk joins the terminal (or stdin and stdout) to the chat until the server closes. On a
 * terminal, an incoming line clears the prompt line, prints, and redraws the prompt with the
 * text being typed, so the two never mix.
 */
async function talk(framed: FramedConn): Promise<void> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const input = createInterface({
    input: process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
    prompt: '> ',
  });
  input.on('line', (line) => {
    const text = line.replace(/\r+$/, '');
    if (framed.conn.socket.destroyed) return;
    if (!framed.write(text)) {
      // The server reads slower than stdin arrives (a piped file): wait for it.
      input.pause();
      framed.conn.socket.once('drain', () => input.resume());
    }
    if (terminal) input.prompt();
  });
  input.on('close', () => void framed.closeWrite());
  input.on('SIGINT', () => {
    framed.write('/quit');
    input.close();
  });
  const show = (line: string): void => {
    if (!terminal) {
      process.stdout.write(`${line}\n`);
      return;
    }
    process.stdout.write('\r\x1b[2K'); // carriage return, then erase the prompt line
    process.stdout.write(`${line}\n`);
    input.prompt(true); // redraw the prompt and the text typed so far
  };
  if (terminal) input.prompt();
  try {
    for await (const frame of framed) show(printable(frame.toString('utf8')));
  } finally {
    if (terminal) process.stdout.write('\r\x1b[2K* disconnected\n');
    input.close();
    framed.close();
  }
}

/** printable replaces control characters (a terminal escape sequence in a message) with `?`. */
function printable(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return line.replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '?');
}
