/**
 * The client side of HTTP CONNECT (RFC 9110 §9.3.6): ask a proxy, over a connected socket, for a
 * tunnel to `host:port`, with basic authentication (RFC 7617) when the proxy URL carries a login.
 */
import type { Socket } from 'node:net';
import { formatHostPort } from '../address.js';
import { ConnectionResetError, ProxyRefusedError, rewrap } from '../errors.js';
import { decodeHttpResponse } from './http-head.js';
import { leaveUnread } from './leave-unread.js';
import type { ProxyUrl } from './proxy-url.js';

/**
 * httpConnect sends `CONNECT host:port` on `socket` and resolves once the proxy answers 2xx: the
 * socket is then the tunnel (bytes that came after the answer are put back to be read). It
 * rejects, leaving the socket to the caller, with ProxyRefusedError (`proxy refused: 407 Proxy
 * Authentication Required`), ConnectionResetError when the proxy closes first, or the
 * ProtocolError of an answer that is not HTTP. Errors carry op `connect` and url `url`.
 */
export function httpConnect(
  socket: Socket,
  proxy: ProxyUrl,
  destination: { readonly host: string; readonly port: number },
  url: string,
): Promise<void> {
  const authority = formatHostPort(destination.host, destination.port);
  const login =
    proxy.username === undefined
      ? ''
      : `Proxy-Authorization: Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}\r\n`;
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (err?: Error, rest?: Buffer): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (err) {
        reject(err);
        return;
      }
      // Whatever followed the answer is the destination's: read it first.
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      let head: ReturnType<typeof decodeHttpResponse>;
      try {
        head = decodeHttpResponse(received);
      } catch (err) {
        finish(rewrap(err, 'connect', url));
        return;
      }
      if (!head) return;
      // Stop the flow before resolving, so no byte of the tunnel is read by nobody.
      leaveUnread(socket);
      const { status, reason } = head.value;
      if (status >= 200 && status < 300) finish(undefined, received.subarray(head.used));
      else
        finish(
          new ProxyRefusedError('connect', url, `proxy refused: ${status}${reason ? ` ${reason}` : ''}`),
        );
    };
    const onClose = (): void =>
      finish(new ConnectionResetError('connect', url, 'the proxy closed the connection before answering'));
    const onError = (): void => onClose();
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.resume();
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${login}\r\n`);
  });
}
