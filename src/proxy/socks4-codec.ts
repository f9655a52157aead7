/**
 * SOCKS4 and SOCKS4a requests (the SOCKS4 protocol note, and its 4a extension where the proxy
 * resolves the name), as pure codecs: decode a client's CONNECT, encode the answer. Decode returns
 * `{ value, used }`, undefined while incomplete ("need more": not an error), or throws
 * ProtocolError for bytes no SOCKS4 client would send.
 */
import { ProtocolError } from '../errors.js';
import { ipv4FromBytes } from '../raw/ip-address.js';
import type { HeadDecoded } from './http-head.js';

/** SOCKS4_VERSION is the first byte of a SOCKS4 request. */
export const SOCKS4_VERSION = 0x04;

/** MAX_SOCKS4_FIELD bounds the user id and the name, each: a longer one is refused, never buffered. */
export const MAX_SOCKS4_FIELD = 255;

/** Socks4Request is a SOCKS4 request: its command (1 CONNECT, 2 BIND), the destination, and the user id. */
export interface Socks4Request {
  readonly command: number;
  /** An IPv4 literal (SOCKS4), or the name the proxy is to resolve (SOCKS4a). */
  readonly host: string;
  readonly port: number;
  readonly userId: string;
}

/** Socks4Reply numbers the answers: 90 granted, 91 rejected or failed. */
export const Socks4Reply = { granted: 90, rejected: 91 } as const;

/**
 * decodeSocks4Request reads `VN=4 CD DSTPORT DSTIP USERID NUL`, and `HOST NUL` after it when
 * DSTIP is 0.0.0.x with x non-zero (SOCKS4a).
 */
export function decodeSocks4Request(buffer: Buffer): HeadDecoded<Socks4Request> | undefined {
  if (buffer.length > 0 && buffer[0] !== SOCKS4_VERSION)
    throw malformed(`a request of version ${buffer[0]} (expected 4)`);
  if (buffer.length < 9) return undefined;
  const userEnd = fieldEnd(buffer, 8, 'user id');
  if (userEnd === undefined) return undefined;
  const port = buffer.readUInt16BE(2);
  const ip = ipv4FromBytes(buffer, 4);
  const command = buffer[1] as number;
  const userId = buffer.toString('latin1', 8, userEnd);
  const isSocks4a = buffer[4] === 0 && buffer[5] === 0 && buffer[6] === 0 && buffer[7] !== 0;
  if (!isSocks4a) return { value: { command, host: ip, port, userId }, used: userEnd + 1 };
  const nameEnd = fieldEnd(buffer, userEnd + 1, 'name');
  if (nameEnd === undefined) return undefined;
  if (nameEnd === userEnd + 1) throw malformed('an empty destination name');
  const host = buffer.toString('latin1', userEnd + 1, nameEnd);
  return { value: { command, host, port, userId }, used: nameEnd + 1 };
}

/** encodeSocks4Reply is the 8-byte answer: `VN=0 CD DSTPORT DSTIP` (the port and address are ignored by clients). */
export function encodeSocks4Reply(reply: number): Buffer {
  return Buffer.from([0x00, reply, 0, 0, 0, 0, 0, 0]);
}

/** fieldEnd finds the NUL ending the field that starts at `start`, or undefined while it may still come. */
function fieldEnd(buffer: Buffer, start: number, what: string): number | undefined {
  const end = buffer.indexOf(0, start);
  if (end >= 0 && end - start <= MAX_SOCKS4_FIELD) return end;
  if (end >= 0 || buffer.length - start > MAX_SOCKS4_FIELD)
    throw malformed(`a ${what} over ${MAX_SOCKS4_FIELD} bytes`);
  return undefined;
}

function malformed(what: string): ProtocolError {
  return new ProtocolError('read', '', `not a SOCKS4 client: ${what}`);
}
