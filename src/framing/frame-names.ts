/**
 * The framings the CLI's `--frame` flag names, and the codec for each.
 */
import type { Codec } from './codec.js';
import { lengthPrefixCodec } from './length-prefix.js';
import { lineCodec } from './line.js';

/** FRAME_NAMES lists the framings `--frame` accepts. */
export const FRAME_NAMES = ['line', 'len8', 'len16', 'len32', 'varint'] as const;

/** FrameName is one of FRAME_NAMES. */
export type FrameName = (typeof FRAME_NAMES)[number];

/** isFrameName tells whether `name` is one of FRAME_NAMES. */
export function isFrameName(name: string): name is FrameName {
  return (FRAME_NAMES as readonly string[]).includes(name);
}

/**
 * codecFor returns the codec `--frame NAME` means: `line` (LF, accepting CRLF) or a length
 * prefix. `maxFrameSize` defaults to 64 KiB (255 for len8).
 */
export function codecFor(name: FrameName, options: { maxFrameSize?: number | undefined } = {}): Codec {
  if (name === 'line') return lineCodec({ maxLength: options.maxFrameSize });
  return lengthPrefixCodec(name, { maxFrameSize: options.maxFrameSize });
}
