/**
 * SOCKS5 messages (RFC 1928) and its username/password login (RFC 1929), as pure codecs: the
 * server's side decodes what a client sends and encodes the replies. Each decode returns
 * `{ value, used }`, undefined while the message is incomplete ("need more": not an error), or
 * throws ProtocolError for bytes no SOCKS5 client would send; socks5ReplyFor names the reply that
 * answers a failed connect. No socket in sight.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { fromSystemError, ProtocolError } from '../errors.js';
import { ipv4FromBytes, ipv6FromBytes, ipv6ToBytes } from '../raw/ip-address.js';
import type { HeadDecoded } from './http-head.js';

/** SOCKS5_VERSION is the first byte of every SOCKS5 message but the login. */
export const SOCKS5_VERSION = 0x05;

/** Socks5Method numbers the authentication methods (RFC 1928 §3) sockkit knows. */
export const Socks5Method = { none: 0x00, password: 0x02, noneAcceptable: 0xff } as const;

/** Socks5Command numbers the requests (RFC 1928 §4). */
export const Socks5Command = { connect: 0x01, bind: 0x02, udpAssociate: 0x03 } as const;

/** Socks5Reply numbers the answers to a request (RFC 1928 §6). */
export const Socks5Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** Socks5Greeting is a client's first message: the authentication methods it offers. */
export interface Socks5Greeting {
  readonly methods: readonly number[];
}

/** Socks5Login is an RFC 1929 username and password, as bytes decoded as UTF-8. */
export interface Socks5Login {
  readonly username: string;
  readonly password: string;
}

/** Socks5Request is a request (RFC 1928 §4): its command, and the destination as a name or an IP literal. */
export interface Socks5Request {
  readonly command: number;
  readonly host: string;
  readonly port: number;
}

/** Socks5Datagram is one UDP ASSOCIATE datagram (RFC 1928 §7): where it goes (or came from), and its data. */
export interface Socks5Datagram {
  /** The fragment number; 0 for a whole datagram, the only kind sockkit relays. */
  readonly fragment: number;
  readonly host: string;
  readonly port: number;
  readonly data: Buffer;
}

const ADDRESS_IPV4 = 0x01;
const ADDRESS_NAME = 0x03;
const ADDRESS_IPV6 = 0x04;

/** decodeSocks5Greeting reads `VER NMETHODS METHODS...`. */
export function decodeSocks5Greeting(buffer: Buffer): HeadDecoded<Socks5Greeting> | undefined {
  if (buffer.length < 2) return needVersion(buffer, SOCKS5_VERSION, 'greeting');
  checkVersion(buffer, SOCKS5_VERSION, 'greeting');
  const count = buffer[1] as number;
  if (count === 0) throw malformed('a greeting that offers no authentication method');
  if (buffer.length < 2 + count) return undefined;
  return { value: { methods: [...buffer.subarray(2, 2 + count)] }, used: 2 + count };
}

/** encodeSocks5Choice is the server's answer to a greeting: the method chosen, or `noneAcceptable`. */
export function encodeSocks5Choice(method: number): Buffer {
  return Buffer.from([SOCKS5_VERSION, method]);
}

/** decodeSocks5Login reads an RFC 1929 request: `VER=1 ULEN UNAME PLEN PASSWD`. */
export function decodeSocks5Login(buffer: Buffer): HeadDecoded<Socks5Login> | undefined {
  if (buffer.length < 2) return needVersion(buffer, 0x01, 'login');
  checkVersion(buffer, 0x01, 'login');
  const userLength = buffer[1] as number;
  if (buffer.length < 3 + userLength) return undefined;
  const passwordLength = buffer[2 + userLength] as number;
  const used = 3 + userLength + passwordLength;
  if (buffer.length < used) return undefined;
  return {
    value: {
      username: buffer.toString('utf8', 2, 2 + userLength),
      password: buffer.toString('utf8', 3 + userLength, used),
    },
    used,
  };
}

/** encodeSocks5LoginStatus is the RFC 1929 answer: status 0 lets the client in, anything else does not. */
export function encodeSocks5LoginStatus(accepted: boolean): Buffer {
  return Buffer.from([0x01, accepted ? 0x00 : 0x01]);
}

/**
 * decodeSocks5Request reads `VER CMD RSV ATYP DST.ADDR DST.PORT`. An address type other than
 * IPv4, name or IPv6 cannot be measured, so it throws ProtocolError (answer `addressTypeNotSupported`
 * first: see `isUnsupportedAddressType`).
 */
export function decodeSocks5Request(buffer: Buffer): HeadDecoded<Socks5Request> | undefined {
  if (buffer.length < 4) return needVersion(buffer, SOCKS5_VERSION, 'request');
  checkVersion(buffer, SOCKS5_VERSION, 'request');
  const address = decodeAddress(buffer, 3);
  if (!address) return undefined;
  return {
    value: { command: buffer[1] as number, host: address.host, port: address.port },
    used: address.end,
  };
}

/** isUnsupportedAddressType tells whether a request's error was its address type, answered with `addressTypeNotSupported`. */
export function isUnsupportedAddressType(err: unknown): boolean {
  return err instanceof ProtocolError && err.reason.includes(UNSUPPORTED_ADDRESS);
}

/**
 * encodeSocks5Reply is the answer to a request: `reply`, and the address the server bound for
 * it (for CONNECT, its side of the outgoing connection; for UDP ASSOCIATE, where to send datagrams).
 */
export function encodeSocks5Reply(reply: number, host = '0.0.0.0', port = 0): Buffer {
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, reply, 0x00]), encodeAddress(host, port)]);
}

/** socks5ReplyFor picks the RFC 1928 reply for a failed connect or association; an upstream proxy's "command not supported" is passed on. */
export function socks5ReplyFor(err: unknown): number {
  const failure = fromSystemError('connect', '', err);
  switch (failure.code) {
    case 'ERR_CONNECTION_REFUSED':
      return Socks5Reply.connectionRefused;
    case 'ERR_HOST_NOT_FOUND':
    case 'ERR_TIMEOUT':
      return Socks5Reply.hostUnreachable;
    case 'ERR_UNREACHABLE':
      return failure.reason.startsWith('network')
        ? Socks5Reply.networkUnreachable
        : Socks5Reply.hostUnreachable;
    case 'ERR_PROXY_REFUSED':
      return failure.reason.endsWith('command not supported')
        ? Socks5Reply.commandNotSupported
        : Socks5Reply.notAllowed;
    default:
      return Socks5Reply.generalFailure;
  }
}

/** decodeSocks5Datagram reads a UDP ASSOCIATE datagram: `RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA`. */
export function decodeSocks5Datagram(datagram: Buffer): Socks5Datagram {
  if (datagram.length < 4) throw malformed('a datagram shorter than its header');
  if (datagram[0] !== 0 || datagram[1] !== 0) throw malformed('a datagram whose reserved bytes are not 0');
  const address = decodeAddress(datagram, 3);
  if (!address) throw malformed('a datagram shorter than its header');
  return {
    fragment: datagram[2] as number,
    host: address.host,
    port: address.port,
    data: datagram.subarray(address.end),
  };
}

/** encodeSocks5Datagram wraps `data` from (or for) `host`:`port` in the UDP ASSOCIATE header. */
export function encodeSocks5Datagram(host: string, port: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0]), encodeAddress(host, port), data]);
}

/** encodeAddress writes `ATYP ADDR PORT`: an IPv4 or IPv6 literal as its bytes, anything else as a name. */
export function encodeAddress(host: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  if (isIPv4(host))
    return Buffer.concat([Buffer.from([ADDRESS_IPV4, ...host.split('.').map(Number)]), portBytes]);
  if (isIPv6(host)) return Buffer.concat([Buffer.from([ADDRESS_IPV6]), ipv6ToBytes(host), portBytes]);
  const name = Buffer.from(host);
  if (name.length === 0 || name.length > 255)
    throw new RangeError(`a SOCKS5 name is 1 to 255 bytes: "${host}"`);
  return Buffer.concat([Buffer.from([ADDRESS_NAME, name.length]), name, portBytes]);
}

const UNSUPPORTED_ADDRESS = 'address type';

/** decodeAddress reads `ATYP ADDR PORT` at `offset`: undefined when incomplete. */
function decodeAddress(
  buffer: Buffer,
  offset: number,
): { host: string; port: number; end: number } | undefined {
  if (buffer.length <= offset) return undefined;
  const type = buffer[offset] as number;
  let host: string;
  let end: number;
  switch (type) {
    case ADDRESS_IPV4:
      end = offset + 1 + 4;
      if (buffer.length < end + 2) return undefined;
      host = ipv4FromBytes(buffer, offset + 1);
      break;
    case ADDRESS_IPV6:
      end = offset + 1 + 16;
      if (buffer.length < end + 2) return undefined;
      host = ipv6FromBytes(buffer, offset + 1);
      break;
    case ADDRESS_NAME: {
      if (buffer.length < offset + 2) return undefined;
      const length = buffer[offset + 1] as number;
      if (length === 0) throw malformed('an empty destination name');
      end = offset + 2 + length;
      if (buffer.length < end + 2) return undefined;
      host = buffer.toString('latin1', offset + 2, end);
      break;
    }
    default:
      throw malformed(`${UNSUPPORTED_ADDRESS} ${type} (expected 1, 3 or 4)`);
  }
  return { host, port: buffer.readUInt16BE(end), end: end + 2 };
}

/** needVersion checks the version of an incomplete message, so a wrong first byte is refused at once. */
function needVersion(buffer: Buffer, version: number, what: string): undefined {
  if (buffer.length > 0) checkVersion(buffer, version, what);
  return undefined;
}

function checkVersion(buffer: Buffer, version: number, what: string): void {
  if (buffer[0] !== version) throw malformed(`a ${what} of version ${buffer[0]} (expected ${version})`);
}

function malformed(what: string): ProtocolError {
  return new ProtocolError('read', '', `not a SOCKS5 client: ${what}`);
}
