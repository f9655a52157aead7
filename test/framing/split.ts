/**
 * Helpers for codec tests: feed bytes to a Deframer in every possible split, so a frame that
 * spans writes is tested at every boundary, with no socket in sight.
 */
import type { Codec } from '../../src/framing/codec.js';
import { Deframer } from '../../src/framing/deframer.js';

/** deframeChunks pushes each chunk in turn, then ends the stream, and returns every frame as a string. */
export function deframeChunks(codec: Codec, chunks: readonly Buffer[]): string[] {
  const deframer = new Deframer(codec);
  const frames: string[] = [];
  for (const chunk of chunks) for (const frame of deframer.push(chunk)) frames.push(frame.toString('latin1'));
  const last = deframer.end();
  if (last) frames.push(last.toString('latin1'));
  return frames;
}

/** everySplit returns `bytes` as one chunk, byte by byte, and cut in two at every position. */
export function everySplit(bytes: Buffer): Buffer[][] {
  const ways: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return ways;
}
