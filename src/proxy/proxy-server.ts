/**
 * The proxy server's service (`sockkit proxy`): each accepted connection is a SOCKS5, SOCKS4a or
 * HTTP proxy client, told apart by its first byte, and becomes a tunnel to the destination it
 * asks for, if its login and the destination rules allow. It runs under `serve`, like any stream
 * service, so listeners, limits, the idle timeout and the graceful shutdown are the usual ones.
 */
import { fromSystemError } from '../errors.js';
import type { StreamService } from '../stream/serve.js';
import { serveHttpProxy } from './http-session.js';
import { type ProxyServerOptions, ProxySession } from './proxy-session.js';
import { serveSocks4, serveSocks5 } from './socks-session.js';

/**
 * proxyService returns the StreamService that serves proxy clients with `options`. A client's
 * bad input, a failed connect or a refused login closes that client only, with one report.
 */
export function proxyService(options: ProxyServerOptions = {}): StreamService {
  return (conn) => {
    const session = new ProxySession(conn, options);
    const served = run(session).catch((err: unknown) => {
      session.fail(describeFailure(err));
      conn.close();
    });
    // One report, once the client is gone and the tunnel's counts are in.
    void Promise.all([served, conn.closed]).then(() => session.finish());
  };
}

async function run(session: ProxySession): Promise<void> {
  const first = await session.reader.firstByte();
  if (first === 0x05) return serveSocks5(session);
  if (first === 0x04) return serveSocks4(session);
  return serveHttpProxy(session);
}

/** describeFailure words what ended a session early: a malformed handshake, a client that left. */
function describeFailure(err: unknown): string {
  const failure = fromSystemError('read', '', err);
  switch (failure.code) {
    case 'ERR_PROTOCOL':
      return `malformed: ${failure.reason}`;
    case 'ERR_CONNECTION_RESET':
      return `ended: ${failure.reason}`;
    default:
      return `failed: ${failure.reason}`;
  }
}
