/**
 * bench's request/response flags: `--request`, `--requests FILE`, `--expect`, `--expect-match`,
 * `--reply-size`, read into the library's RequestSpec, and the hex dump of the replies that failed.
 */
import { type Command, Option } from 'commander';
import {
  DEFAULT_MAX_FRAME_SIZE,
  formatHexdump,
  formatSize,
  MAX_REPLY_SIZE,
  type MismatchSample,
  parseSize,
  type RequestSpec,
  splitRequestLines,
  UsageError,
  unescapeBytes,
} from '../../index.js';
import { readOptionFile } from './option-file.js';

/** RequestFlags are the parsed request/response flags. */
export interface RequestFlags {
  request?: string[];
  requests?: string;
  expect?: string;
  expectMatch?: string;
  replySize?: number;
  maxFrame?: number;
  frame?: string;
}

/** withRequestOptions adds the request/response flags to `bench`. */
export function withRequestOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--request <data>',
        'request/response mode: send DATA (\\r \\n \\t \\0 \\\\ \\xHH escapes; {conn} {seq} {rand} {rand:N}); repeat to send several in turn',
      ).argParser((value, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .option('--requests <file>', 'request/response mode: one request per line of FILE, sent in turn')
    .option(
      '--expect <data>',
      'each reply must be exactly DATA (escapes and {conn} {seq}); its length ends a reply',
    )
    .option(
      '--expect-match <regex>',
      'each reply must match REGEX (JavaScript syntax, the reply read as Latin-1)',
    )
    .addOption(
      new Option('--reply-size <size>', 'each reply is SIZE bytes').argParser((v) =>
        parseSize(v, '--reply-size', 1, MAX_REPLY_SIZE),
      ),
    )
    .addOption(
      new Option('--max-frame <size>', 'with --frame: the largest reply frame accepted')
        .default(
          undefined,
          `${formatSize(DEFAULT_MAX_FRAME_SIZE)}, ${formatSize(255)} with len8, ${formatSize(65_535)} with len16`,
        )
        .argParser((v) => parseSize(v, '--max-frame', 1, MAX_REPLY_SIZE)),
    );
}

/**
 * requestSpecOf reads the flags into a RequestSpec, or undefined for an echo run (`datagram`: for
 * udp, where each datagram is one reply and no end need be given). Throws
 * UsageError for escapes it cannot read, an unreadable file, or a check without requests.
 */
export function requestSpecOf(flags: RequestFlags, datagram = false): RequestSpec | undefined {
  const given = flags.request !== undefined || flags.requests !== undefined;
  const checks = ['expect', 'expectMatch', 'replySize', 'maxFrame'] as const;
  if (!given) {
    const stray = checks.find((c) => flags[c] !== undefined);
    if (stray) throw new UsageError('bench', `${flagOf(stray)} needs --request or --requests`);
    return undefined;
  }
  if (flags.request !== undefined && flags.requests !== undefined)
    throw new UsageError('bench', '--request and --requests both give the requests: use one');
  // A datagram is one reply whole; a stream needs to be told where each reply ends.
  if (!datagram && flags.frame === undefined && flags.replySize === undefined && flags.expect === undefined)
    throw new UsageError(
      'bench',
      'say where each reply ends: --frame (line, len16, ...), --reply-size N or --expect DATA',
    );
  return {
    requests:
      flags.requests !== undefined
        ? readRequests(flags.requests)
        : (flags.request ?? []).map((r) => escaped(r, '--request')),
    expect: flags.expect === undefined ? undefined : escaped(flags.expect, '--expect'),
    expectMatch: flags.expectMatch,
    replySize: flags.replySize,
    maxFrame: flags.maxFrame,
  };
}

function readRequests(path: string): Buffer[] {
  const text = readOptionFile('--requests', path).toString('utf8');
  try {
    const requests = splitRequestLines(text);
    if (requests.length === 0) throw new RangeError('holds no request');
    return requests;
  } catch (err) {
    throw new UsageError('bench', `--requests ${path}: ${(err as Error).message}`);
  }
}

function escaped(text: string, flag: string): Buffer {
  try {
    return unescapeBytes(text);
  } catch (err) {
    throw new UsageError('bench', `${flag}: ${(err as Error).message}`);
  }
}

function flagOf(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** formatMismatches shows each sample: which reply, what was expected, and a hex dump of what came. */
export function formatMismatches(samples: readonly MismatchSample[], total: number): string {
  if (samples.length === 0) return '';
  const lines = [`  first ${samples.length} of ${total} mismatched replies:`];
  for (const s of samples) {
    const received = Buffer.from(s.receivedHex, 'hex');
    const want =
      s.expectedHex !== undefined
        ? `expected ${quote(Buffer.from(s.expectedHex, 'hex'))}`
        : s.pattern !== undefined
          ? `expected to match /${s.pattern}/`
          : 'expected a reply of --reply-size bytes';
    lines.push(
      `  connection ${s.connection}, reply ${s.sequence}: ${want}, got ${s.receivedBytes} B ${quote(received)}`,
    );
    const shown = Math.min(received.length, 64);
    lines.push(formatHexdump(received, [{ offset: 0, length: shown, label: '', depth: 0 }]).trimEnd());
    if (s.receivedBytes > shown) lines.push(`        ... ${s.receivedBytes - shown} more bytes`);
  }
  return `${lines.join('\n')}\n`;
}

/** quote shows bytes as a string literal with the flags' escapes. */
function quote(bytes: Buffer): string {
  const text = [...bytes]
    .map((b) => {
      if (b === 0x0d) return '\\r';
      if (b === 0x0a) return '\\n';
      if (b === 0x09) return '\\t';
      if (b === 0x5c) return '\\\\';
      if (b === 0x27) return "\\'";
      return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    })
    .join('');
  return `'${text.length > 80 ? `${text.slice(0, 80)}...` : text}'`;
}
