/**
 * The head of an HTTP/1.x message (RFC 9112 §2-§5): a start line, header fields, an empty line.
 * Pure codecs: bytes in, a request or response head out (with the bytes it used), undefined while
 * the empty line has not arrived ("need more": not an error), or a ProtocolError for bytes that
 * are not HTTP. No socket in sight; the proxy server reads requests and the CONNECT client reads
 * responses with them.
 */
import { ProtocolError } from '../errors.js';

/** MAX_HTTP_HEAD is the largest head read, in bytes: more is refused, never buffered. */
export const MAX_HTTP_HEAD = 16 * 1024;

/** HttpHeader is one header field as it arrived: the name as written, the value trimmed. */
export type HttpHeader = readonly [name: string, value: string];

/** HttpRequestHead is a request line and its header fields. */
export interface HttpRequestHead {
  readonly method: string;
  /** The request target as written: `host:port` for CONNECT, `http://host/path` for a proxy request. */
  readonly target: string;
  /** `HTTP/1.1` or `HTTP/1.0`. */
  readonly version: string;
  readonly headers: readonly HttpHeader[];
}

/** HttpResponseHead is a status line and its header fields. */
export interface HttpResponseHead {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly HttpHeader[];
}

/** HeadDecoded is a head found at the start of a buffer, and how many bytes of it the head used. */
export interface HeadDecoded<T> {
  readonly value: T;
  readonly used: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^HTTP\/1\.[01]$/;
/** TARGET is a request target's bytes: visible ASCII only, no tab or control byte (RFC 9112 §3.2, RFC 3986). */
const TARGET = /^[\x21-\x7e]+$/;

/**
 * decodeHttpRequest finds the request head at the start of `buffer`. Returns undefined until the
 * empty line ends it; throws ProtocolError (op `read`) for a malformed request line or header,
 * or once `maxSize` bytes hold no end of head.
 */
export function decodeHttpRequest(
  buffer: Buffer,
  maxSize = MAX_HTTP_HEAD,
): HeadDecoded<HttpRequestHead> | undefined {
  const head = splitHead(buffer, maxSize);
  if (!head) return undefined;
  const parts = (head.lines[0] as string).split(' ');
  const [method = '', target = '', version = ''] = parts;
  if (parts.length !== 3 || !TOKEN.test(method) || !TARGET.test(target) || !VERSION.test(version)) {
    throw malformed('the request line is not "METHOD TARGET HTTP/1.x"');
  }
  return { value: { method, target, version, headers: headerFields(head.lines) }, used: head.used };
}

/**
 * decodeHttpResponse finds the response head at the start of `buffer`, as decodeHttpRequest does
 * for a request.
 */
export function decodeHttpResponse(
  buffer: Buffer,
  maxSize = MAX_HTTP_HEAD,
): HeadDecoded<HttpResponseHead> | undefined {
  const head = splitHead(buffer, maxSize);
  if (!head) return undefined;
  const match = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(head.lines[0] as string);
  if (!match) throw malformed('the status line is not "HTTP/1.x CODE REASON"');
  return {
    value: {
      version: match[1] as string,
      status: Number(match[2]),
      reason: match[3] ?? '',
      headers: headerFields(head.lines),
    },
    used: head.used,
  };
}

/** headerValue returns the value of the first header named `name` (any case), or undefined. */
export function headerValue(headers: readonly HttpHeader[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === wanted)?.[1];
}

/**
 * splitHead cuts the head into lines once its empty line has arrived. A bare LF ends a line too,
 * as RFC 9112 §2.2 lets a recipient accept.
 */
function splitHead(buffer: Buffer, maxSize: number): { lines: string[]; used: number } | undefined {
  const end = endOfHead(buffer, maxSize);
  if (end === undefined) {
    if (buffer.length >= maxSize) throw malformed(`no end of head within ${maxSize} bytes`);
    return undefined;
  }
  // latin1: each byte one character, so nothing is lost or merged; names are then checked as tokens.
  const text = buffer.toString('latin1', 0, end.head);
  const lines = text.split(/\r?\n/);
  // RFC 9112 §2.2: empty lines before the request line are to be ignored.
  while (lines[0] === '' && lines.length > 1) lines.shift();
  return { lines, used: end.used };
}

function endOfHead(buffer: Buffer, maxSize: number): { head: number; used: number } | undefined {
  const limit = Math.min(buffer.length, maxSize);
  for (let i = buffer.indexOf(0x0a); i >= 0 && i < limit; i = buffer.indexOf(0x0a, i + 1)) {
    // An empty line: this line's LF, then LF or CR LF at once.
    const next = buffer[i + 1] === 0x0d ? i + 2 : i + 1;
    if (buffer[next] === 0x0a) return { head: i - (buffer[i - 1] === 0x0d ? 1 : 0), used: next + 1 };
  }
  return undefined;
}

function headerFields(lines: readonly string[]): HttpHeader[] {
  const headers: HttpHeader[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0));
    // RFC 9112 §5.1-§5.2: no space before the colon, and no obsolete line folding.
    if (colon <= 0 || !TOKEN.test(name)) throw malformed(`malformed header line "${printable(line)}"`);
    const value = line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) throw malformed(`a control character in header ${name}`);
    headers.push([name, value]);
  }
  return headers;
}

function printable(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}

function malformed(reason: string): ProtocolError {
  return new ProtocolError('read', '', `not an HTTP request head: ${reason}`);
}
