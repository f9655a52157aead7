/**
 * `--frame line|delimiter|len8|len16|len32|varint` (and `--delimiter` for the delimiter framing)
 * for stream clients (`send`, `connect`, `bench`): speak to a service that frames its messages,
 * one frame per message or per line typed, and print each frame received on a line of its own.
 */
import type { Writable } from 'node:stream';
import { type Command, Option } from 'commander';
import {
  type Codec,
  type Conn,
  codecFor,
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_NAMES,
  FramedConn,
  type FrameName,
  formatSize,
  MiB,
  parseSize,
  type SocketAddress,
  UsageError,
  unescapeBytes,
} from '../../index.js';

/** FrameFlags are the parsed framing flags. */
export interface FrameFlags {
  frame?: FrameName;
  maxFrame?: number;
  delimiter?: Buffer;
}

/** MAX_FRAME_FLAG bounds `--max-frame`: a frame is held whole in memory until it is complete. */
const MAX_FRAME_FLAG = 256 * MiB;

/** withFrameOptions adds `--frame` and `--max-frame` to a stream client command. */
export function withFrameOptions(command: Command, usage = command.name()): Command {
  return command
    .addOption(
      new Option(
        '--frame <framing>',
        'frame messages: a line, a --delimiter, or a 1/2/4-byte big-endian or varint length prefix',
      ).choices(FRAME_NAMES),
    )
    .addOption(delimiterOption())
    .addOption(
      new Option('--max-frame <size>', 'with --frame: the largest frame accepted or sent')
        .default(undefined, `${formatSize(DEFAULT_MAX_FRAME_SIZE)}, ${formatSize(255)} with len8`)
        .argParser((value) => parseSize(value, '--max-frame', 1, MAX_FRAME_FLAG)),
    )
    .addHelpText(
      'after',
      `
Framing examples (docs/framing.md):
  sockkit ${usage} tcp://127.0.0.1:9000 --frame len16 ${usage === 'send' ? "'hello'   # sends 00 05 h e l l o" : '  # each line typed is one frame'}
  sockkit ${usage} tcp://127.0.0.1:9000 --frame varint --max-frame 1MiB${usage === 'send' ? " 'hi'" : ''}
  sockkit ${usage} tcp://127.0.0.1:9000 --frame delimiter --delimiter '\\0'${usage === 'send' ? " 'hi'   # sends h i 00" : '   # each line typed ends with a NUL'}`,
    );
}

/**
 * delimiterOption is `--delimiter <bytes>`, the end of each frame with `--frame delimiter`, read
 * with `--request`'s escapes (`\r \n \t \0 \\ \xHH`).
 */
export function delimiterOption(): Option {
  return new Option(
    '--delimiter <bytes>',
    "with --frame delimiter: the bytes that end each frame (\\r \\n \\t \\0 \\\\ \\xHH escapes; e.g. '\\r\\n\\r\\n')",
  ).argParser(delimiterBytes);
}

function delimiterBytes(value: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = unescapeBytes(value);
  } catch (err) {
    throw new UsageError('--delimiter', (err as Error).message);
  }
  if (bytes.length === 0) throw new UsageError('--delimiter', 'must be at least one byte');
  return bytes;
}

/**
 * delimiterOf returns `--delimiter`'s bytes when `--frame delimiter` was given, undefined for
 * another framing. Throws UsageError for one of the two without the other.
 */
export function delimiterOf(flags: FrameFlags, op: string): Buffer | undefined {
  if (flags.frame === 'delimiter' && flags.delimiter === undefined)
    throw new UsageError(op, "--frame delimiter needs --delimiter BYTES (e.g. --delimiter '\\r\\n\\r\\n')");
  if (flags.frame !== 'delimiter' && flags.delimiter !== undefined)
    throw new UsageError(op, '--delimiter needs --frame delimiter');
  return flags.delimiter;
}

/**
 * codecOf returns the codec `--frame` asks for, or undefined without it. Throws UsageError for
 * `--frame` on a datagram address (datagrams keep their own boundaries) or a `--max-frame` the
 * framing cannot express.
 */
export function codecOf(flags: FrameFlags, address: SocketAddress, op: string): Codec | undefined {
  const delimiter = delimiterOf(flags, op);
  if (flags.frame === undefined) {
    if (flags.maxFrame !== undefined) throw new UsageError(op, '--max-frame needs --frame');
    return undefined;
  }
  if (address.scheme === 'udp' || address.scheme === 'ws' || address.scheme === 'wss') {
    const what = address.scheme === 'udp' ? 'a UDP datagram' : 'a WebSocket message';
    throw new UsageError(op, `--frame is for stream sockets; ${what} is already one message`);
  }
  try {
    return codecFor(flags.frame, { maxFrameSize: flags.maxFrame, delimiter });
  } catch (err) {
    throw new UsageError('--max-frame', err instanceof Error ? err.message : String(err));
  }
}

/**
 * sendFramed sends `message` as one frame, half-closes, and writes each frame received to
 * `output` followed by a newline, until the server closes. Rejects with the read error (a frame
 * over the maximum, a frame cut short) if the server's bytes do not frame, FrameTooLargeError for
 * a message over the maximum, and UsageError for one the framing cannot hold (a line feed in a
 * line, the delimiter in a delimited frame).
 */
export async function sendFramed(conn: Conn, codec: Codec, message: string, output: Writable): Promise<void> {
  let frame: Buffer;
  try {
    frame = codec.encode(message);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new UsageError('send', `the message cannot be one ${codec.name} frame: ${err.message}`);
  }
  const framed = new FramedConn(conn, codec);
  await conn.send(frame);
  await framed.closeWrite();
  for await (const frame of framed) await writeLine(output, frame);
}

function writeLine(output: Writable, frame: Buffer): Promise<void> | undefined {
  const more = output.write(Buffer.concat([frame, Buffer.from('\n')]));
  return more ? undefined : new Promise((resolve) => output.once('drain', () => resolve()));
}
