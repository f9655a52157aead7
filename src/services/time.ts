/**
 * The time service (RFC 868): the seconds since 1900-01-01 00:00 UTC as a 32-bit big-endian number.
 */
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { Conn } from '../stream/conn.js';
import { replyAndClose } from './one-shot.js';

/** SECONDS_1900_TO_1970 is the offset between RFC 868's epoch (1900) and Unix time's (1970). */
export const SECONDS_1900_TO_1970 = 2_208_988_800;
const ERA = 2 ** 32;

/**
 * encodeTime writes `date` as RFC 868's 4 bytes: seconds since 1900, big-endian, modulo 2^32. The
 * counter wraps on 2036-02-07 06:28:16 UTC; past that instant it starts again from 0, as every
 * 32-bit time server does, and `decodeTime` takes the era from the clock it is given.
 */
export function encodeTime(date: Date): Buffer {
  const seconds = Math.floor(date.getTime() / 1000) + SECONDS_1900_TO_1970;
  const reply = Buffer.alloc(4);
  reply.writeUInt32BE(((seconds % ERA) + ERA) % ERA);
  return reply;
}

/**
 * decodeTime reads RFC 868's 4 bytes back into a Date, choosing the 2^32-second era that puts it
 * nearest to `near` (default: now), so a reply after the 2036 wrap decodes to 2036, not 1900.
 * Throws RangeError unless `bytes` holds exactly 4 bytes.
 */
export function decodeTime(bytes: Uint8Array, near: Date = new Date()): Date {
  if (bytes.byteLength !== 4) throw new RangeError(`an RFC 868 time is 4 bytes, not ${bytes.byteLength}`);
  const counter = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32BE();
  const nearSeconds = Math.floor(near.getTime() / 1000) + SECONDS_1900_TO_1970;
  const era = Math.round((nearSeconds - counter) / ERA);
  return new Date((counter + era * ERA - SECONDS_1900_TO_1970) * 1000);
}

/** timeStream sends the current time's 4 bytes, then closes (RFC 868, TCP). */
export function timeStream(conn: Conn): void {
  replyAndClose(conn, encodeTime(new Date()));
}

/** timeDatagram answers any datagram with the current time's 4 bytes (RFC 868, UDP). */
export function timeDatagram(_data: Buffer, peer: Peer, conn: PacketConn): void {
  conn.write(encodeTime(new Date()), peer);
}
