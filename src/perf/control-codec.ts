/**
 * The iperf3 control protocol's bytes, as pure codecs: the 37-byte cookie that names a test, the
 * one-byte states the two sides exchange, the length-prefixed JSON of the parameter and result
 * exchanges, and the SERVER_ERROR message. Nothing here touches a socket; the client and the
 * server (client.ts, server.ts) read and write these over the control connection.
 *
 * Written from iperf3's documentation and a reading of its source (iperf_api.h, iperf_api.c,
 * iperf_client_api.c, iperf_server_api.c, 3.12), not translated from it.
 */
import { randomBytes } from 'node:crypto';
import { FrameTooLargeError, ProtocolError } from '../errors.js';

/**
 * PerfState names the one-byte (signed) messages of the control connection, with iperf3's
 * values. `EXTENSIONS` is sockkit's own: a sockkit server sends it only to a client whose
 * parameters said it understands it (`sockkit` in the JSON), so iperf3 peers never see it.
 */
export const PerfState = {
  TEST_START: 1,
  TEST_RUNNING: 2,
  TEST_END: 4,
  PARAM_EXCHANGE: 9,
  CREATE_STREAMS: 10,
  SERVER_TERMINATE: 11,
  CLIENT_TERMINATE: 12,
  EXCHANGE_RESULTS: 13,
  DISPLAY_RESULTS: 14,
  IPERF_START: 15,
  IPERF_DONE: 16,
  EXTENSIONS: 100,
  ACCESS_DENIED: -1,
  SERVER_ERROR: -2,
} as const;

/** PerfStateValue is one of PerfState's values. */
export type PerfStateValue = (typeof PerfState)[keyof typeof PerfState];

const STATE_NAMES = new Map<number, string>(
  Object.entries(PerfState).map(([name, value]) => [value, name.toLowerCase().replace(/_/g, '-')]),
);

/** stateName words a state byte for messages: `test-end`, or `unknown state 77`. */
export function stateName(state: number): string {
  return STATE_NAMES.get(state) ?? `unknown state ${state}`;
}

/** COOKIE_SIZE is the cookie's length on the wire: 36 characters and a NUL. */
export const COOKIE_SIZE = 37;

/** The characters of a cookie, as iperf3 draws them (a base32 alphabet). */
const COOKIE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * PROBE_TERMINATOR ends the cookie of sockkit's responsiveness connection instead of NUL: the
 * server then echoes that connection rather than counting it as a data stream.
 */
const PROBE_TERMINATOR = 0x21; // '!'

/** makeCookie returns a fresh random cookie of 36 characters from iperf3's alphabet. */
export function makeCookie(random: (size: number) => Buffer = randomBytes): string {
  const bytes = random(COOKIE_SIZE - 1);
  let cookie = '';
  for (const byte of bytes) cookie += COOKIE_ALPHABET[byte & 31];
  return cookie;
}

/** Cookie is a decoded cookie: the test it names, and whether it opens a responsiveness probe. */
export interface Cookie {
  readonly cookie: string;
  readonly probe: boolean;
}

/**
 * encodeCookie returns the 37 bytes that open a control or data connection: the cookie and a NUL
 * (or `!` for sockkit's responsiveness probe). Throws RangeError for a cookie that is not 36
 * characters of the alphabet.
 */
export function encodeCookie(cookie: string, probe = false): Buffer {
  if (!isCookie(cookie)) throw new RangeError(`a cookie is ${COOKIE_SIZE - 1} characters of [a-z2-7]`);
  const bytes = Buffer.alloc(COOKIE_SIZE);
  bytes.write(cookie, 'latin1');
  bytes[COOKIE_SIZE - 1] = probe ? PROBE_TERMINATOR : 0;
  return bytes;
}

/**
 * decodeCookie reads the cookie at the start of `buffer`: undefined until 37 bytes are there,
 * else the cookie and 37 used. Throws ProtocolError as soon as the bytes cannot be a cookie
 * (iperf3 accepts any printable cookie; sockkit keeps to the alphabet iperf3 itself draws from,
 * which also keeps a stray HTTP request or TLS hello from reading as one).
 */
export function decodeCookie(buffer: Buffer): { value: Cookie; used: number } | undefined {
  // Refuse as soon as a byte cannot belong to a cookie, not only once 37 bytes are in: a peer
  // that sends a short line of something else is told at once rather than left waiting.
  const head = buffer.toString('latin1', 0, Math.min(buffer.length, COOKIE_SIZE - 1));
  const end = buffer.length >= COOKIE_SIZE ? buffer[COOKIE_SIZE - 1] : 0;
  if (!/^[a-z2-7]*$/.test(head) || (end !== 0 && end !== PROBE_TERMINATOR)) {
    throw new ProtocolError('perf', '', 'the peer did not open with an iperf3 cookie');
  }
  if (buffer.length < COOKIE_SIZE) return undefined;
  return { value: { cookie: head, probe: end === PROBE_TERMINATOR }, used: COOKIE_SIZE };
}

function isCookie(text: string): boolean {
  return text.length === COOKIE_SIZE - 1 && /^[a-z2-7]+$/.test(text);
}

/** encodeState returns the one byte of a state message. Throws RangeError outside a signed byte. */
export function encodeState(state: number): Buffer {
  if (!Number.isInteger(state) || state < -128 || state > 127) throw new RangeError(`state ${state}`);
  const byte = Buffer.alloc(1);
  byte.writeInt8(state);
  return byte;
}

/** decodeState reads a state byte: undefined on an empty buffer, else the signed value and 1 used. */
export function decodeState(buffer: Buffer): { value: number; used: number } | undefined {
  if (buffer.length < 1) return undefined;
  return { value: buffer.readInt8(0), used: 1 };
}

/** MAX_JSON_SIZE bounds a parameter or result message; iperf3's own are a few KiB. */
export const MAX_JSON_SIZE = 1 << 20;

/**
 * encodeJson returns a JSON message as iperf3 frames it: a 4-byte big-endian length, then the
 * UTF-8 text (no terminator). Throws FrameTooLargeError past MAX_JSON_SIZE.
 */
export function encodeJson(value: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(value), 'utf8');
  if (text.length > MAX_JSON_SIZE) throw new FrameTooLargeError('perf', '', text.length, MAX_JSON_SIZE);
  const bytes = Buffer.allocUnsafe(4 + text.length);
  bytes.writeUInt32BE(text.length, 0);
  text.copy(bytes, 4);
  return bytes;
}

/**
 * decodeJson reads a JSON message at the start of `buffer`: undefined until it is complete. It
 * throws FrameTooLargeError as soon as the length says more than `maxSize`, and ProtocolError
 * for text that is not a JSON object. iperf3 writes numbers it means as -1 in uint64 fields
 * (1.8e19); those arrive as plain numbers and the readers in params.ts and results.ts sort them out.
 */
export function decodeJson(
  buffer: Buffer,
  maxSize = MAX_JSON_SIZE,
): { value: Record<string, unknown>; used: number } | undefined {
  if (buffer.length < 4) return undefined;
  const size = buffer.readUInt32BE(0);
  if (size > maxSize) throw new FrameTooLargeError('perf', '', size, maxSize);
  if (buffer.length < 4 + size) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(buffer.toString('utf8', 4, 4 + size));
  } catch {
    throw new ProtocolError('perf', '', 'a control message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('perf', '', 'a control message is not a JSON object');
  }
  return { value: value as Record<string, unknown>, used: 4 + size };
}

/**
 * IperfErrno holds the iperf3 error numbers sockkit sends after SERVER_ERROR, so an iperf3
 * client prints its own words for them. They are stable across iperf3 versions.
 */
export const IperfErrno = {
  /** "an option you are trying to set is not implemented yet" */
  UNIMPLEMENTED: 13,
  /** "received an unknown control message" */
  MESSAGE: 110,
  /** "unable to receive parameters from client" */
  RECEIVE_PARAMS: 114,
  /** "unable to receive results from client/server" */
  RECEIVE_RESULTS: 117,
  /** "unable to accept stream connection" */
  STREAM_ACCEPT: 125,
} as const;

/** ServerError is what follows a SERVER_ERROR state: iperf3's error number and the system errno. */
export interface ServerError {
  readonly iperfErrno: number;
  readonly errno: number;
}

/** encodeServerError returns the SERVER_ERROR state byte followed by the two 32-bit big-endian numbers. */
export function encodeServerError(error: ServerError): Buffer {
  const bytes = Buffer.alloc(9);
  bytes.writeInt8(PerfState.SERVER_ERROR, 0);
  bytes.writeInt32BE(error.iperfErrno, 1);
  bytes.writeInt32BE(error.errno, 5);
  return bytes;
}

/** decodeServerError reads the 8 bytes after a SERVER_ERROR state: undefined until they are all there. */
export function decodeServerError(buffer: Buffer): { value: ServerError; used: number } | undefined {
  if (buffer.length < 8) return undefined;
  return { value: { iperfErrno: buffer.readInt32BE(0), errno: buffer.readInt32BE(4) }, used: 8 };
}

/** describeIperfErrno words the iperf3 error numbers a server is likely to send. */
export function describeIperfErrno(iperfErrno: number): string {
  switch (iperfErrno) {
    case IperfErrno.UNIMPLEMENTED:
      return 'the server does not implement an option this test asks for';
    case 114:
      return 'the server could not read the test parameters';
    case 117:
      return 'the server could not read the results';
    default:
      return `the server reported iperf3 error ${iperfErrno}`;
  }
}
