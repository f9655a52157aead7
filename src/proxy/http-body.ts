/**
 * Where an HTTP/1.1 message body ends (RFC 9112 §6), for a proxy that keeps connections open:
 * the framing of a request or a response told from its head, and the chunked coding (§7.1) read
 * strictly. Pure: heads and bytes in, framing or bytes to pass on out, ProtocolError for framing
 * two parties could read differently (the stuff of request smuggling). No socket in sight.
 */
import { ProtocolError } from '../errors.js';
import type { HttpHeader, HttpRequestHead, HttpResponseHead } from './http-head.js';

/** MAX_CHUNK_LINE bounds a chunk-size line with its extensions, in bytes. */
export const MAX_CHUNK_LINE = 4096;
/** MAX_TRAILERS bounds the trailer section of a chunked body, in bytes. */
export const MAX_TRAILERS = 16 * 1024;

/**
 * BodyFraming says how a body ends: there is none, after `length` bytes, at the chunked coding's
 * last chunk, or when the sender closes (responses only).
 */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

/**
 * requestFraming tells how a request's body ends (RFC 9112 §6.3). Throws ProtocolError (a proxy answers 400) for
 * Transfer-Encoding and Content-Length together, Transfer-Encoding in HTTP/1.0, a coding list
 * that does not end in one `chunked`, and a Content-Length that is not one decimal number.
 */
export function requestFraming(head: HttpRequestHead): BodyFraming {
  const codings = transferCodings(head.headers);
  const length = contentLength(head.headers);
  if (codings !== undefined) {
    if (length !== undefined) throw framing('Transfer-Encoding and Content-Length together (RFC 9112 §6.1)');
    if (head.version === 'HTTP/1.0') throw framing('Transfer-Encoding in an HTTP/1.0 request');
    checkChunkedLast(codings);
    return { kind: 'chunked' };
  }
  if (length === undefined || length === 0) return { kind: 'none' };
  return { kind: 'length', length };
}

/**
 * responseFraming tells how a response's body ends (RFC 9112 §6.3): none for HEAD, 1xx, 204 and
 * 304; chunked; a length; or the close of the connection. Throws ProtocolError for a head a
 * proxy cannot pass on safely (Transfer-Encoding with Content-Length, a malformed length).
 */
export function responseFraming(head: HttpResponseHead, method: string): BodyFraming {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304)
    return { kind: 'none' };
  const codings = transferCodings(head.headers);
  const length = contentLength(head.headers);
  if (codings !== undefined) {
    if (length !== undefined) throw framing('Transfer-Encoding and Content-Length together');
    return codings.at(-1) === 'chunked' && codings.indexOf('chunked') === codings.length - 1
      ? { kind: 'chunked' }
      : { kind: 'close' };
  }
  if (length === undefined) return { kind: 'close' };
  return length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

/** transferCodings lists every Transfer-Encoding field's codings, lower-cased, or undefined without one. */
function transferCodings(headers: readonly HttpHeader[]): string[] | undefined {
  const values = headers.filter(([name]) => name.toLowerCase() === 'transfer-encoding').map(([, v]) => v);
  if (values.length === 0) return undefined;
  return values
    .join(',')
    .split(',')
    .map((coding) => coding.trim().toLowerCase());
}

function checkChunkedLast(codings: readonly string[]): void {
  if (codings.at(-1) !== 'chunked')
    throw framing(`Transfer-Encoding "${codings.join(', ')}" does not end in chunked`);
  if (codings.indexOf('chunked') !== codings.length - 1) throw framing('chunked applied more than once');
  if (codings.some((coding) => !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(coding)))
    throw framing('a malformed transfer coding');
}

/** contentLength reads the one Content-Length field, or undefined without one; throws for two, a list or a non-number. */
function contentLength(headers: readonly HttpHeader[]): number | undefined {
  const values = headers.filter(([name]) => name.toLowerCase() === 'content-length').map(([, v]) => v);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw framing('more than one Content-Length');
  const value = values[0] as string;
  if (!/^\d{1,15}$/.test(value)) throw framing(`Content-Length "${value.slice(0, 20)}" is not a number`);
  return Number(value);
}

/** ChunkStep is what one step of reading a chunked body found: bytes used, bytes to pass on, whether the body is over. */
export interface ChunkStep {
  readonly used: number;
  readonly forward: Buffer;
  readonly done: boolean;
}

/**
 * ChunkedReader reads a chunked body (RFC 9112 §7.1) a step at a time from whatever bytes have
 * arrived. Each step passes on what it read: sizes rewritten without their extensions, data,
 * trailer fields as they came. Lines end in CRLF only (a bare LF is where two parsers disagree);
 * sizes are at most 13 hex digits; a size line is at most MAX_CHUNK_LINE bytes and the trailers
 * MAX_TRAILERS. Anything else throws ProtocolError.
 */
export class ChunkedReader {
  #state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  #left = 0;
  #trailerBytes = 0;

  /** done is true once the last chunk and the trailers have been read. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** step reads from the start of `buffer`: undefined when it needs more bytes to go on. */
  step(buffer: Buffer): ChunkStep | undefined {
    switch (this.#state) {
      case 'size': {
        const line = crlfLine(buffer, MAX_CHUNK_LINE, 'a chunk-size line');
        if (!line) return undefined;
        const match = /^([0-9A-Fa-f]{1,13})(;[\t\x20-\x7e\x80-\xff]*)?$/.exec(line.text);
        if (!match) throw malformed(`a malformed chunk-size line "${printable(line.text)}"`);
        const size = Number.parseInt(match[1] as string, 16);
        this.#left = size;
        this.#state = size === 0 ? 'trailer' : 'data';
        return { used: line.used, forward: Buffer.from(`${size.toString(16)}\r\n`), done: false };
      }
      case 'data': {
        if (buffer.length === 0) return undefined;
        const take = Math.min(this.#left, buffer.length);
        this.#left -= take;
        if (this.#left === 0) this.#state = 'data-end';
        return { used: take, forward: buffer.subarray(0, take), done: false };
      }
      case 'data-end': {
        if (buffer.length < 2) {
          if (buffer.length === 1 && buffer[0] !== 0x0d) throw malformed('chunk data not followed by CRLF');
          return undefined;
        }
        if (buffer[0] !== 0x0d || buffer[1] !== 0x0a) throw malformed('chunk data not followed by CRLF');
        this.#state = 'size';
        return { used: 2, forward: buffer.subarray(0, 2), done: false };
      }
      case 'trailer': {
        const line = crlfLine(buffer, MAX_TRAILERS - this.#trailerBytes, 'the trailer section');
        if (!line) return undefined;
        this.#trailerBytes += line.used;
        if (line.text === '') {
          this.#state = 'done';
          return { used: line.used, forward: buffer.subarray(0, line.used), done: true };
        }
        const colon = line.text.indexOf(':');
        if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(line.text.slice(0, colon)))
          throw malformed(`a malformed trailer line "${printable(line.text)}"`);
        return { used: line.used, forward: buffer.subarray(0, line.used), done: false };
      }
      case 'done':
        return undefined;
    }
  }
}

/** crlfLine finds a line ended by CRLF at the start of `buffer`, at most `max` bytes with its end. */
function crlfLine(buffer: Buffer, max: number, what: string): { text: string; used: number } | undefined {
  const lf = buffer.indexOf(0x0a);
  if (lf < 0 || lf + 1 > max) {
    if (buffer.length >= max) throw malformed(`${what} over ${max} bytes`);
    return undefined;
  }
  if (lf === 0 || buffer[lf - 1] !== 0x0d) throw malformed(`a bare LF in ${what}`);
  const text = buffer.toString('latin1', 0, lf - 1);
  if (/[\r\0]/.test(text)) throw malformed(`a stray CR or NUL in ${what}`);
  return { text, used: lf + 1 };
}

function printable(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}

function framing(reason: string): ProtocolError {
  return new ProtocolError('read', '', `ambiguous message framing: ${reason}`);
}

function malformed(reason: string): ProtocolError {
  return new ProtocolError('read', '', `malformed chunked body: ${reason}`);
}
