/**
 * `sockkit chat join URL`: the chat's terminal client. On a terminal, incoming lines print above
 * a prompt that keeps what is being typed; without one, it reads stdin and writes stdout.
 */
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import { normalizeRoom } from '../chat/commands.js';
import { UsageError } from '../errors.js';
import { FramedConn } from '../framing/framed-conn.js';
import { lineCodec } from '../framing/line.js';
import { dial } from '../stream/dial.js';
import { addressArg, durationOption, tracerFor } from './common.js';
import { type TlsClientFlags, tlsClientTransport, withTlsClientOptions } from './tls-options.js';

interface JoinFlags extends TlsClientFlags {
  nick?: string;
  room?: string;
  timeout?: number;
}

/** chatJoinCommand is `sockkit chat join URL`: the terminal client. */
export function chatJoinCommand(): Command {
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
      new Option('-w, --timeout <duration>', 'bound on connecting').argParser(durationOption('--timeout', 1)),
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
