/**
 * `sockkit chat join URL`: the chat's terminal client. On a terminal, incoming lines print above
 * a prompt that keeps what is being typed; without one, it reads stdin and writes stdout.
 */
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import {
  DEFAULT_MAX_LINE,
  dial,
  FramedConn,
  formatAddress,
  lineCodec,
  nickRefusal,
  normalizeRoom,
  parseSize,
  plural,
  printable,
  roomRefusal,
  UsageError,
} from '../../index.js';
import { addressArg, durationOption, sizeDefault, tracerFor } from '../options/common.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { warn } from '../run.js';

interface JoinFlags extends TlsClientFlags {
  nick?: string;
  room?: string;
  timeout?: number;
  maxLine: number;
}

/** The largest --max-line: the broker's own bound is a choice of its operator, this one is ours. */
const MAX_MAX_LINE = 16 * 1024 * 1024;

/** chatJoinCommand is `sockkit chat join URL`: the terminal client. */
export function chatJoinCommand(): Command {
  const command = new Command('join')
    .summary('join a chat from the terminal')
    .description(
      'Connect to a chat broker and talk: each line typed goes to your room, lines starting with / ' +
        'are commands (/help). On a terminal, incoming lines print above a prompt that keeps what ' +
        'you are typing. Without a terminal, lines are read from stdin and printed to stdout, for ' +
        'scripts. Exits 0 when the server closes the connection (after /quit, for instance). A line ' +
        'longer than --max-line is not sent (the server would close the connection): one line on ' +
        'stderr says so, and the session goes on.',
    )
    .argument('<url>', 'the broker, e.g. tcp://127.0.0.1:7777')
    .option('-n, --nick <name>', 'your nickname (otherwise the server names you guestN)')
    .option('--room <name>', 'join this room after connecting')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on connecting').argParser(durationOption('--timeout', 1)),
    )
    .addOption(
      new Option('--max-line <size>', "the longest line to send: the server's --max-line")
        .default(...sizeDefault(DEFAULT_MAX_LINE))
        .argParser((v) => parseSize(v, '--max-line', 1, MAX_MAX_LINE)),
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
      // The broker refuses these too; refusing them here, with its words, saves a useless session.
      const nickProblem = options.nick === undefined ? undefined : nickRefusal(options.nick);
      if (nickProblem) throw new UsageError('--nick', nickProblem);
      const room = options.room === undefined ? undefined : normalizeRoom(options.room);
      if (options.room !== undefined && !room)
        throw new UsageError('--room', roomRefusal(options.room) ?? 'invalid room');
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(cmd, 'client'),
        tls,
      });
      // Lines in are the server's, up to its --max-line plus a nickname, with each control
      // character shown in up to 8 bytes (`<U+009B>` for 2): bound them far above that.
      const framed = new FramedConn(
        conn,
        lineCodec({ maxLength: Math.max(1024 * 1024, 8 * options.maxLine) }),
      );
      if (options.nick) framed.write(`/nick ${options.nick}`);
      if (room) framed.write(`/join ${room}`);
      await talk(framed, options.maxLine);
      if (conn.error) throw conn.error;
    });
  return withTlsClientOptions(command, 'chat join');
}

/**
 * talk joins the terminal (or stdin and stdout) to the chat until the server closes. On a
 * terminal, an incoming line clears the prompt line, prints, and redraws the prompt with the
 * text being typed, so the two never mix.
 */
async function talk(framed: FramedConn, maxLine: number): Promise<void> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const input = createInterface({
    input: process.stdin,
    output: terminal ? process.stdout : undefined,
    terminal,
    prompt: '> ',
  });
  /** show prints one line (a diagnostic on stderr, prefixed `sockkit: `) without mixing it with the prompt. */
  const show = (line: string, diagnostic = false): void => {
    if (terminal) process.stdout.write('\r\x1b[2K'); // carriage return, then erase the prompt line
    if (diagnostic) warn(line);
    else process.stdout.write(`${line}\n`);
    if (terminal) input.prompt(true); // redraw the prompt and the text typed so far
  };
  const url = formatAddress(framed.conn.remoteAddress);
  input.on('line', (line) => {
    const text = line.replace(/\r+$/, '');
    if (framed.conn.socket.destroyed) return;
    const size = Buffer.byteLength(text);
    if (size > maxLine) {
      // The server would close the connection for it: keep the session, drop the line, say so.
      show(
        `send ${url}: line of ${plural(size, 'byte')} exceeds the maximum of ${plural(maxLine, 'byte')} (--max-line); not sent`,
        true,
      );
      return;
    }
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
  if (terminal) input.prompt();
  try {
    for await (const frame of framed) show(printable(frame.toString('utf8')));
  } finally {
    if (terminal) process.stdout.write('\r\x1b[2K* disconnected\n');
    input.close();
    framed.close();
  }
}
