/**
 * The framings the CLI's `--frame` flag names, and the codec for each.
 */
import type { Codec } from './codec.js';
import { delimiterCodec } from './delimiter.js';
import { lengthPrefixCodec } from './length-prefix.js';
import { lineCodec } from './line.js';

/** FRAME_NAMES lists the framings `--frame` accepts. */
export const FRAME_NAMES = ['line', 'delimiter', 'len8', 'len16', 'len32', 'varint'] as const;

/** FrameName is one of FRAME_NAMES. */
export type FrameName = (typeof FRAME_NAMES)[number];

/**
 * Framing is how a run frames its messages (`--frame`, `--delimiter`): the codec's name, and for
 * `delimiter` the bytes that end each frame. Plain data, so it can cross to a worker thread.
 */
export interface Framing {
  /** Frame each message with this codec (the size is the payload's). */
  readonly frame?: FrameName | undefined;
  /** With `frame: 'delimiter'`: the bytes that end each frame. */
  readonly delimiter?: Uint8Array | undefined;
}

/** FramingOptions tune codecFor. */
export interface FramingOptions {
  /** The largest frame, in bytes. Default 64 KiB (255 for len8). */
  readonly maxFrameSize?: number | undefined;
  /** `delimiter` only, and required there: the bytes that end each frame (`\r\n\r\n`, `\0`). */
  readonly delimiter?: Uint8Array | string | undefined;
}

/** isFrameName tells whether `name` is one of FRAME_NAMES. */
export function isFrameName(name: string): name is FrameName {
  return (FRAME_NAMES as readonly string[]).includes(name);
}

/**
 * isTextFraming tells whether frames of `name` end with bytes a person types (`line`,
 * `delimiter`), so a request is written with its ending and a reply read with it; a length
 * prefix wraps a payload instead.
 */
export function isTextFraming(name: FrameName): name is 'line' | 'delimiter' {
  return name === 'line' || name === 'delimiter';
}

/**
 * codecFor returns the codec `--frame NAME` means: `line` (LF, accepting CRLF), `delimiter`
 * (frames ending with `options.delimiter`) or a length prefix. Throws RangeError for `delimiter`
 * without a delimiter, a delimiter given to another framing, or a maximum the framing cannot express.
 */
export function codecFor(name: FrameName, options: FramingOptions = {}): Codec {
  if (name !== 'delimiter' && options.delimiter !== undefined)
    throw new RangeError(`a delimiter is for the delimiter framing, not ${name}`);
  if (name === 'line') return lineCodec({ maxLength: options.maxFrameSize });
  if (name === 'delimiter') {
    if (options.delimiter === undefined) throw new RangeError('the delimiter framing needs a delimiter');
    return delimiterCodec(options.delimiter, { maxFrameSize: options.maxFrameSize });
  }
  return lengthPrefixCodec(name, { maxFrameSize: options.maxFrameSize });
}
