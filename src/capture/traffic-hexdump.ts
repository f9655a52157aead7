/**
 * The traffic hex dump that `--hexdump` prints: a heading line per chunk that says which
 * connection, when, which way and how much, then the bytes 16 a line, with their offset in the
 * stream, in hex and as printable text. Pure: values in, text out.
 *
 *     #1 +0.004s > sent 12 bytes
 *       00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64              |hello, world|
 *     #1 +0.005s < received 12 bytes
 */
import type { TapDirection } from './tap.js';

/** TrafficChunk is one chunk of bytes a connection sent or received. */
export interface TrafficChunk {
  /** The connection's number within the capture (`#1`). */
  readonly connection: number;
  /** Milliseconds since the capture started. */
  readonly elapsed: number;
  readonly direction: TapDirection;
  /** The offset of the chunk's first byte in its direction's stream (0 for a datagram). */
  readonly offset: number;
  readonly data: Uint8Array;
  /** Whom a datagram came from or went to (`127.0.0.1:7`); streams leave it out. */
  readonly peer?: string | undefined;
}

/**
 * formatTrafficChunk renders `chunk` as its heading line (`#1 +0.004s > sent 12 bytes`, with
 * `to PEER` or `from PEER` for a datagram) and one line per 16 bytes: the stream offset (8 hex
 * digits at least), the bytes in hex in two groups of 8, and the printable ASCII between bars,
 * any other byte as a dot. `>` is this side sending, `<` the peer's bytes arriving. As in
 * `hexdump -C`, a run of lines equal to the one before is shown as one `*` line (the last line
 * of the chunk is always shown).
 */
export function formatTrafficChunk(chunk: TrafficChunk): string {
  const { data, offset } = chunk;
  const sent = chunk.direction === 'out';
  const size = `${data.length} byte${data.length === 1 ? '' : 's'}`;
  const peer = chunk.peer === undefined ? '' : ` ${sent ? 'to' : 'from'} ${chunk.peer}`;
  const lines = [
    `${heading(chunk.connection, chunk.elapsed)} ${sent ? '> sent' : '< received'} ${size}${peer}`,
  ];
  let repeating = false;
  for (let at = 0; at < data.length; at += 16) {
    const row = data.subarray(at, Math.min(at + 16, data.length));
    const last = at + 16 >= data.length;
    if (at > 0 && !last && Buffer.compare(row, data.subarray(at - 16, at)) === 0) {
      if (!repeating) lines.push('  *');
      repeating = true;
      continue;
    }
    repeating = false;
    let hex = '';
    let text = '';
    for (let i = 0; i < 16; i += 1) {
      const byte = row[i];
      hex += (i === 8 ? '  ' : i === 0 ? '' : ' ') + (byte === undefined ? '  ' : hexByte(byte));
      if (byte !== undefined) text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
    }
    lines.push(`  ${(offset + at).toString(16).padStart(8, '0')}  ${hex}  |${text}|`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * formatTrafficEvent renders a step of connection `connection` that carries no bytes (`connected
 * 127.0.0.1:53122 -> 127.0.0.1:9000`, `< received end of stream (FIN)`, `closed`) as one line.
 */
export function formatTrafficEvent(connection: number, elapsed: number, text: string): string {
  return `${heading(connection, elapsed)} ${text}\n`;
}

function heading(connection: number, elapsed: number): string {
  return `#${connection} +${(Math.max(0, elapsed) / 1000).toFixed(3)}s`;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
