/**
 * OriginPolicy decides which web pages may open the chat's WebSocket. A browser lets any page
 * open a WebSocket to any address and only tells the server where the page came from, in the
 * `Origin` header (RFC 6455 §4.1, §10.2): without this check, every site a user visits could
 * join the chat as them and read the room (cross-site WebSocket hijacking).
 */

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../security/reply-budget.js';
import { quoteForLog } from './quote-for-log.js';

/** ANY_ORIGIN, among the allowed origins, lets a page from anywhere open the WebSocket. */
export const ANY_ORIGIN = '*';

/** OriginVerdict is OriginPolicy's answer: allowed, or refused with a reason for the server's log. */
export type OriginVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: OriginVerdict = { allowed: true };

/**
 * normalizeOrigin returns `value` as a browser writes it in `Origin` (`http://localhost:8080`,
 * `https://chat.example`: scheme, lower-case host, port only when not the scheme's default), or
 * `*` for ANY_ORIGIN. It throws TypeError for anything else: another scheme, a path, credentials.
 */
export function normalizeOrigin(value: string): string {
  if (value === ANY_ORIGIN) return ANY_ORIGIN;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const bare =
    url !== undefined &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    !value.endsWith('?') &&
    !value.endsWith('#');
  if (!url || !bare) {
    throw new TypeError(
      `invalid origin ${JSON.stringify(value)}: expected http://HOST[:PORT], https://HOST[:PORT] or ${ANY_ORIGIN}`,
    );
  }
  return url.origin;
}

/**
 * OriginPolicy accepts, by default, the page's own origin only: a request whose `Origin` names
 * the host and port the request was sent to (its `Host` header), which is how a browser forms
 * both for a page it loaded from this server, whether under `127.0.0.1`, `localhost`, a name or
 * a reverse proxy's address. The scheme is not compared: a TLS-terminating proxy in front of a
 * plain listener is served `https` pages, and only this server answers on its host and port.
 *
 * On a connection that arrived on a loopback address, the page's host must also be a loopback
 * name (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`): a page whose own name an attacker
 * re-pointed at 127.0.0.1 (DNS rebinding) has a matching `Origin` and `Host`, but not a
 * loopback name. Origins in `allowed` (ANY_ORIGIN: all) pass as well.
 *
 * A request without `Origin` does not come from a browser (every browser sends one with a
 * WebSocket handshake): a script, `wscat` or a proxy's health check, which no web page can
 * drive. It is accepted. `Origin: null` (a sandboxed frame, a file, a data: URL) is refused
 * unless ANY_ORIGIN is allowed.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;
  readonly #any: boolean;

  /** The constructor throws TypeError for an entry of `allowed` that normalizeOrigin rejects. */
  constructor(allowed: readonly string[] = []) {
    this.#allowed = new Set(allowed.map(normalizeOrigin));
    this.#any = this.#allowed.has(ANY_ORIGIN);
  }

  /** check judges a WebSocket upgrade request by its `Origin` and `Host` headers. */
  check(request: IncomingMessage): OriginVerdict {
    const origin = request.headers.origin;
    if (origin === undefined || this.#any) return ALLOWED;
    const shown = quoteForLog(origin);
    const page = parseOrigin(origin);
    if (!page) return refused(`origin ${shown} is malformed`);
    if (this.#allowed.has(page.origin)) return ALLOWED;
    const host = request.headers.host ?? '';
    const served = /^[A-Za-z0-9._~%:[\]-]+$/.test(host)
      ? parseOrigin(`${page.protocol}//${host}`)
      : undefined;
    if (!served) return refused(`origin ${shown} and a malformed Host ${quoteForLog(host)}`);
    if (served.host !== page.host) {
      return refused(`origin ${shown} is not this page's (${served.host}) nor an allowed origin`);
    }
    if (isLoopbackAddress(request.socket.localAddress) && !isLoopbackName(served.hostname)) {
      return refused(
        `origin ${shown} reached a loopback address under a name that is not loopback ` +
          '(DNS rebinding?) and is not an allowed origin',
      );
    }
    return ALLOWED;
  }
}

function refused(reason: string): OriginVerdict {
  return { allowed: false, reason };
}

/** parseOrigin parses an http or https origin, or returns undefined. */
function parseOrigin(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** isLoopbackAddress tells a socket's local address on the loopback interface (IPv4-mapped too). */
function isLoopbackAddress(address: string | undefined): boolean {
  // No address is a Unix socket: a proxy in front decides what reaches it.
  return address !== undefined && address !== '' && isLoopbackHost(address);
}

/** isLoopbackName tells a URL hostname (as `new URL` normalizes it) that names this machine. */
function isLoopbackName(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '[::1]') return true;
  if (hostname.startsWith('[::ffff:')) {
    // `new URL` writes ::ffff:127.0.0.1 as [::ffff:7f00:1]: the first group is 7fXX.
    return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(hostname);
  }
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}
