/**
 * Forwarding one HTTP request in absolute form (`GET http://host/path HTTP/1.1`, RFC 9112
 * §3.2.2) to its origin, on a connection kept open between requests as HTTP/1.1 does (RFC 9112
 * §9.3): the request goes in origin form without hop-by-hop headers, its body and the response's
 * are passed on exactly as far as their framing says (http-body.ts), and the origin connection is
 * kept for the next request to the same place when both sides allow it.
 */
import type { Socket } from 'node:net';
import { ConnectionResetError, fromSystemError, ProtocolError } from '../errors.js';
import type { HandshakeReader } from './handshake-reader.js';
import { type BodyFraming, ChunkedReader, requestFraming, responseFraming } from './http-body.js';
import {
  decodeHttpResponse,
  type HttpHeader,
  type HttpRequestHead,
  type HttpResponseHead,
} from './http-head.js';
import type { Origin, OriginConnections } from './origin-connections.js';
import { describeConnectFailure, type ProxySession } from './proxy-session.js';

/** Headers meant for this hop only (RFC 9110 §7.6.1), never passed on. */
const HOP_HEADERS = new Set([
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'connection',
  'keep-alive',
  'te',
  'upgrade',
]);

/** PIECE bounds one read of a body, so a large body moves in pieces with backpressure. */
const PIECE = 64 * 1024;

/** OriginTarget is where a request goes: the origin, its Host value, and the path in origin form. */
export interface OriginTarget {
  readonly host: string;
  readonly port: number;
  /** The Host header for the origin: the URL's authority (RFC 9112 §3.2.2: it replaces the client's). */
  readonly authority: string;
  readonly path: string;
}

/**
 * ForwardOutcome says how forwarding went: done (`keepAlive` when the client connection may carry
 * another request, `originKeepsOpen` when the origin's may); a refusal, when nothing of a response was sent and the proxy answers with its
 * own status; or broken, when the client connection can only be closed as it is.
 */
export type ForwardOutcome =
  | { readonly kind: 'done'; readonly keepAlive: boolean; readonly originKeepsOpen: boolean }
  | {
      readonly kind: 'refusal';
      readonly status: number;
      readonly reason: string;
      /** The body of the proxy's answer. */
      readonly detail: string;
      /** The log line's outcome. */
      readonly outcome: string;
    }
  | { readonly kind: 'broken'; readonly outcome: string };

/**
 * forwardRequest sends `request` (its head already read from the client) to `target` over
 * `origins`, with its body, and passes the response back, with backpressure both ways. Throws
 * nothing: every failure is a ForwardOutcome for the session to act on.
 */
export async function forwardRequest(
  session: ProxySession,
  request: HttpRequestHead,
  target: OriginTarget,
  origins: OriginConnections,
): Promise<ForwardOutcome> {
  let framing: BodyFraming;
  try {
    framing = requestFraming(request);
  } catch (err) {
    return malformedRequest((err as ProtocolError).reason);
  }
  if (request.headers.filter(([name]) => name.toLowerCase() === 'host').length > 1)
    return malformedRequest('more than one Host header (RFC 9112 §3.2)');
  // RFC 9112 §9.3.1: a proxy does not keep an HTTP/1.0 client's connection.
  const clientCloses = request.version === 'HTTP/1.0' || connectionTokens(request.headers).has('close');
  // A kept origin connection may have been closed by the origin just as this request went out
  // (its keep-alive ran out): a request without a body that got no byte back is sent once more,
  // on a new connection, as RFC 9112 §9.3.1 lets a client retry.
  for (let attempt = 1; ; attempt += 1) {
    let origin: Awaited<ReturnType<OriginConnections['open']>>;
    try {
      origin = await origins.open(target.host, target.port);
    } catch (err) {
      const timedOut = fromSystemError('connect', '', err).code === 'ERR_TIMEOUT';
      const detail = describeConnectFailure(err);
      return timedOut
        ? refusal(504, 'Gateway Timeout', detail, detail)
        : refusal(502, 'Bad Gateway', detail, detail);
    }
    if ('denied' in origin)
      return refusal(403, 'Forbidden', 'this destination is not allowed', `refused: ${origin.denied}`);
    const retryable = origin.reused && framing.kind === 'none' && attempt === 1;
    const outcome = await exchange(session, request, target, framing, clientCloses, origin, retryable);
    if (outcome !== 'retry') {
      if (outcome.kind !== 'done') origins.drop();
      else if (!outcome.originKeepsOpen) origins.drop();
      return outcome;
    }
    origins.drop();
  }
}

/** Exchanged is how one exchange went, with whether the origin connection may be kept. */
type Exchanged = ForwardOutcome | 'retry';

/**
 * exchange sends one request and its body on `origin` and relays the response. 'retry' when
 * `retryable` and the origin closed without a byte of answer.
 */
async function exchange(
  session: ProxySession,
  request: HttpRequestHead,
  target: OriginTarget,
  framing: BodyFraming,
  clientCloses: boolean,
  origin: Origin,
  retryable: boolean,
): Promise<Exchanged> {
  const client = session.conn.socket;
  let clientLeft = false;
  const cutOrigin = (): void => {
    origin.socket.destroy();
  };
  // A client that leaves mid-exchange takes the origin connection with it.
  const onClientClose = (): void => {
    clientLeft = true;
    cutOrigin();
  };
  client.once('close', onClientClose);
  const progress = { responseStarted: false };
  const readBefore = origin.socket.bytesRead;
  try {
    origin.socket.write(originHead(request, target, clientCloses));
    const body = relayBody(session.reader, origin.socket, framing);
    // A request body that cannot be read leaves the origin connection in an unknown state.
    body.catch(cutOrigin);
    let bodyDone = false;
    body.then(
      () => {
        bodyDone = true;
      },
      () => {},
    );
    const response = relayResponse(origin.reader, client, request.method, clientCloses, progress);
    const [responseResult] = await Promise.allSettled([response]);
    if (responseResult.status === 'fulfilled' && !bodyDone && !clientLeft) {
      // The origin answered before taking the whole body (a 417 to Expect: 100-continue, a 413):
      // the client may never send the rest, so neither connection can carry another exchange.
      cutOrigin();
      return { kind: 'done', keepAlive: false, originKeepsOpen: false };
    }
    const [bodyResult] = await Promise.allSettled([body]);
    if (clientLeft)
      return { kind: 'broken', outcome: 'ended: the client closed the connection mid-exchange' };
    if (bodyResult.status === 'rejected') {
      const err = bodyResult.reason;
      if (err instanceof ProtocolError && !progress.responseStarted) return malformedRequest(err.reason);
      return { kind: 'broken', outcome: `ended: ${wordFailure(err, 'the client')}` };
    }
    if (responseResult.status === 'rejected') {
      if (retryable && origin.socket.bytesRead === readBefore) return 'retry';
      const detail = wordFailure(responseResult.reason, 'the origin');
      if (!progress.responseStarted) return refusal(502, 'Bad Gateway', detail, `failed: ${detail}`);
      return { kind: 'broken', outcome: `ended: ${detail}` };
    }
    return {
      kind: 'done',
      keepAlive: responseResult.value.clientKeepsOpen,
      originKeepsOpen: responseResult.value.originKeepsOpen,
    };
  } finally {
    client.off('close', onClientClose);
  }
}

function refusal(status: number, reason: string, detail: string, outcome: string): ForwardOutcome {
  return { kind: 'refusal', status, reason, detail, outcome };
}

function malformedRequest(detail: string): ForwardOutcome {
  return refusal(400, 'Bad Request', detail, `malformed: ${detail}`);
}

function wordFailure(err: unknown, who: string): string {
  if (err instanceof ProtocolError) return err.reason;
  if (err instanceof ConnectionResetError) return `${who} closed the connection mid-message`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * relayResponse passes the origin's response to `client`: interim 1xx heads, then the final
 * head (hop-by-hop headers taken out, `Connection: close` when the client connection ends after
 * it) and its body. Tells whether each connection may carry another exchange.
 */
async function relayResponse(
  reader: HandshakeReader,
  client: Socket,
  method: string,
  clientCloses: boolean,
  progress: { responseStarted: boolean },
): Promise<{ clientKeepsOpen: boolean; originKeepsOpen: boolean }> {
  for (;;) {
    const head = await reader.read(decodeHttpResponse);
    // 101 is never asked for (Upgrade is not passed on); other 1xx are interim (RFC 9110 §15.2).
    if (head.status === 101) throw new ProtocolError('read', '', 'the origin switched protocols unasked');
    if (head.status < 200) {
      await writeAll(client, responseHead(head, false));
      progress.responseStarted = true;
      continue;
    }
    const framing = responseFraming(head, method);
    const closeAfter = clientCloses || framing.kind === 'close';
    progress.responseStarted = true;
    await writeAll(client, responseHead(head, closeAfter));
    await relayBody(reader, client, framing);
    return {
      clientKeepsOpen: !closeAfter,
      originKeepsOpen:
        head.version === 'HTTP/1.1' &&
        !connectionTokens(head.headers).has('close') &&
        framing.kind !== 'close',
    };
  }
}

/**
 * relayBody copies one body, as `framing` delimits it, from `reader` to `to`, waiting for `to`
 * to drain as it goes. Rejects with ConnectionResetError when the sender closes inside the body,
 * with ProtocolError for a malformed chunked body.
 */
async function relayBody(reader: HandshakeReader, to: Socket, framing: BodyFraming): Promise<void> {
  switch (framing.kind) {
    case 'none':
      return;
    case 'length': {
      for (let left = framing.length; left > 0; ) {
        const piece = await reader.readSome(Math.min(left, PIECE));
        if (!piece) throw new ConnectionResetError('read', '', 'closed inside a body');
        left -= piece.length;
        await writeAll(to, piece);
      }
      return;
    }
    case 'chunked': {
      const chunks = new ChunkedReader();
      while (!chunks.done) {
        const step = await reader.read((buffer) => {
          const found = chunks.step(buffer.length > PIECE ? buffer.subarray(0, PIECE) : buffer);
          return found && { value: found.forward, used: found.used };
        });
        await writeAll(to, step);
      }
      return;
    }
    case 'close':
      for (let piece = await reader.readSome(PIECE); piece; piece = await reader.readSome(PIECE))
        await writeAll(to, piece);
  }
}

/** writeAll writes `bytes` to `socket` and resolves once it may take more; rejects if it closes first. */
async function writeAll(socket: Socket, bytes: Buffer | string): Promise<void> {
  if (socket.destroyed) throw new ConnectionResetError('write', '', 'closed');
  if (socket.write(bytes)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
  if (socket.destroyed) throw new ConnectionResetError('write', '', 'closed');
}

/** connectionTokens lists the Connection header's options, lower-cased (RFC 9110 §7.6.1). */
function connectionTokens(headers: readonly HttpHeader[]): Set<string> {
  const tokens = headers
    .filter(([name]) => name.toLowerCase() === 'connection')
    .flatMap(([, value]) => value.split(','))
    .map((token) => token.trim().toLowerCase());
  return new Set(tokens);
}

/**
 * FRAMING_HEADERS say where a message ends (and, for Host, whom it is for). The proxy relays a
 * body as these delimit it, so they go on whatever the Connection header names: dropping
 * `Content-Length` because a client listed it in Connection, while still sending the body, let the
 * origin read that body as a request of its own (request smuggling past the proxy's rules).
 */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'host']);

/**
 * endToEnd keeps the headers that go on past this hop: none of HOP_HEADERS, and none the
 * Connection header names, except FRAMING_HEADERS.
 */
function endToEnd(headers: readonly HttpHeader[]): HttpHeader[] {
  const named = connectionTokens(headers);
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    return !HOP_HEADERS.has(lower) && (!named.has(lower) || FRAMING_HEADERS.has(lower));
  });
}

/** originHead rewrites a proxy request's head for its origin: origin form, the URL's Host, no hop-by-hop headers. */
function originHead(request: HttpRequestHead, target: OriginTarget, close: boolean): string {
  const kept = endToEnd(request.headers).filter(([name]) => name.toLowerCase() !== 'host');
  const lines = [`Host: ${target.authority}`, ...kept.map(([name, value]) => `${name}: ${value}`)];
  if (close) lines.push('Connection: close');
  return `${request.method} ${target.path} ${request.version}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** responseHead rewrites the origin's response head for the client: no hop-by-hop headers. */
function responseHead(head: HttpResponseHead, close: boolean): string {
  const lines = endToEnd(head.headers).map(([name, value]) => `${name}: ${value}`);
  if (close) lines.push('Connection: close');
  // RFC 9112 §4: the space before the reason is there even when the reason is empty.
  const status = `${head.version} ${head.status} ${head.reason}`;
  return `${status}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}
