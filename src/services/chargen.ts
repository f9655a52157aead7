/**
 * The character generator service (RFC 864): the "popular pattern" of 72-character lines of the 95
 * printable ASCII characters, each line starting one character later than the one before, CR LF
 * after each. TCP sends it until the client closes; UDP answers each datagram with 0-512 characters.
 */
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { DatagramService } from '../datagram/serve-packets.js';
import type { Conn } from '../stream/conn.js';

/** CHARGEN_LINE_LENGTH is the characters per line, before the CR LF. */
export const CHARGEN_LINE_LENGTH = 72;
/** CHARGEN_MAX_DATAGRAM is the most characters one UDP reply carries (RFC 864: "between 0 and 512"). */
export const CHARGEN_MAX_DATAGRAM = 512;

/** The 95 printable ASCII characters, space (0x20) through tilde (0x7e). */
const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const lineBytes = CHARGEN_LINE_LENGTH + 2;

/** chargenLine is line `index` of the pattern (0 starts with the space), CR LF included. */
export function chargenLine(index: number): string {
  const start = index % printable.length;
  const twice = printable + printable;
  return `${twice.slice(start, start + CHARGEN_LINE_LENGTH)}\r\n`;
}

/** One whole period of the pattern: 95 lines of 74 bytes, after which it repeats exactly. */
const cycle = Buffer.from(
  Array.from({ length: printable.length }, (_, i) => chargenLine(i)).join(''),
  'latin1',
);
/** The cycle twice over, so any 512-byte window starting on a line is one slice, never a copy. */
const doubled = Buffer.concat([cycle, cycle]);
/** Nine cycles (63,270 bytes): what the TCP service hands the socket per write. */
const block = Buffer.concat(Array.from({ length: 9 }, () => cycle));

/** chargenBytes is `length` bytes of the pattern starting `offset` bytes into it: a pure function for tests. */
export function chargenBytes(offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) out[i] = cycle[(offset + i) % cycle.length] as number;
  return out;
}

/**
 * chargenStream sends the pattern on `conn` until the client closes, reading and ignoring what the
 * client sends. Backpressure: it writes only while the socket takes more, then waits for `drain`,
 * so a client that reads slowly (or never) holds the server to one block of memory.
 */
export function chargenStream(conn: Conn): void {
  let stopped = false;
  const pump = (): void => {
    while (!stopped && conn.write(block)) {
      // The socket took the block without queueing past its high-water mark: keep going.
    }
    if (!stopped) conn.socket.once('drain', pump);
  };
  conn.onData(ignore);
  // RFC 864: the data flows "until the calling user terminates the connection"; its FIN is that.
  conn.socket.once('end', () => {
    stopped = true;
    conn.close();
  });
  conn.socket.once('close', () => {
    stopped = true;
  });
  pump();
}

/**
 * createChargenDatagram makes a UDP chargen service: each reply is one datagram of `length()`
 * characters (default: random, 0 to 512), starting at the beginning of the line after the one the
 * previous reply started on, so successive replies rotate through the pattern.
 */
export function createChargenDatagram(
  length: () => number = () => Math.floor(Math.random() * (CHARGEN_MAX_DATAGRAM + 1)),
): DatagramService {
  let nextLine = 0;
  return (_data: Buffer, peer: Peer, conn: PacketConn): void => {
    const start = (nextLine % printable.length) * lineBytes;
    nextLine = (nextLine + 1) % printable.length;
    const size = Math.max(0, Math.min(CHARGEN_MAX_DATAGRAM, Math.floor(length())));
    conn.write(doubled.subarray(start, start + size), peer);
  };
}

/** chargenDatagram is the UDP chargen service with random reply lengths (RFC 864). */
export const chargenDatagram: DatagramService = createChargenDatagram();

function ignore(): void {}
