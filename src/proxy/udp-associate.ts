/**
 * SOCKS5 UDP ASSOCIATE (RFC 1928 §7): the server opens a UDP port for the client, unwraps each
 * datagram the client sends there and passes it on to the destination its header names, and
 * wraps each answer with its sender's address on the way back. The association lasts as long as
 * the client's TCP connection. With an upstream chain of SOCKS5 proxies, the datagrams go through
 * an association with the chain instead (udp-chain.ts), which lasts as long as its own control
 * connections: the first of the two to end ends both.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { formatHostPort } from '../address.js';
import { resolveHost } from '../resolve.js';
import { unmapIPv4 } from '../security/access.js';
import { isHostName } from './host-name.js';
import { DEFAULT_PROXY_CONNECT_TIMEOUT, describeConnectFailure, type ProxySession } from './proxy-session.js';
import { formatProxyUrl } from './proxy-url.js';
import {
  decodeSocks5Datagram,
  encodeSocks5Datagram,
  encodeSocks5Reply,
  Socks5Reply,
  socks5ReplyFor,
} from './socks5-codec.js';
import { firstHopWithoutUdp, openUdpChain, type UdpChain, type UdpChainAnswer } from './udp-chain.js';

/** MAX_UDP_PEERS bounds the destinations one association may have sent to (and accept answers from). */
const MAX_UDP_PEERS = 1024;

/** Outbound is where a client's datagrams go: straight to their destinations, or into an upstream chain. */
interface Outbound {
  /** send passes `data` on to `host`:`port`, if the rules allow; answers go to the handler given at opening. */
  send(host: string, port: number, data: Buffer): void;
  /** ended resolves when the outbound side ends the association by itself (an upstream hop left). */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * serveUdpAssociate answers a UDP ASSOCIATE request and relays datagrams until the client's TCP
 * connection closes (or, through an upstream chain, until the chain's does). Only datagrams from
 * the client's address (and from `port`, when the request named one) are relayed out.
 * Destinations are judged by the rules as CONNECT's are; a datagram to a denied one is dropped.
 * An upstream chain with a hop other than SOCKS5 cannot carry datagrams: the request is then
 * answered "command not supported".
 */
export async function serveUdpAssociate(session: ProxySession, _host: string, port: number): Promise<void> {
  const { conn, options } = session;
  const chain = options.proxy ?? [];
  const refuse = (reply: number, outcome: string): void => {
    conn.socket.write(encodeSocks5Reply(reply));
    session.fail(outcome);
    session.end();
  };
  const unable = firstHopWithoutUdp(chain);
  if (unable) {
    return refuse(
      Socks5Reply.commandNotSupported,
      `refused: UDP ASSOCIATE cannot go through ${formatProxyUrl(unable)} (only SOCKS5 hops carry datagrams)`,
    );
  }
  const local = unmapIPv4(conn.socket.localAddress ?? '127.0.0.1');
  const clientIp = unmapIPv4(conn.socket.remoteAddress ?? '');
  const front = createSocket(isIP(local) === 6 ? 'udp6' : 'udp4');
  let client: { address: string; port: number } | undefined =
    port === 0 ? undefined : { address: clientIp, port };
  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, local, () => {
        front.off('error', reject);
        resolve();
      });
    });
  } catch {
    return refuse(Socks5Reply.generalFailure, 'failed: could not open a UDP port');
  }
  front.on('error', () => {});

  // The TCP connection is silent while datagrams flow: each relayed one counts as activity
  // against an idle timeout (the guard's `setTimeout`), re-armed with its own value.
  const stillActive = (): void => {
    if (conn.socket.timeout) conn.socket.setTimeout(conn.socket.timeout);
  };
  const answer: UdpChainAnswer = (host, answerPort, data) => {
    if (!client) return;
    session.bytesDown += data.length;
    stillActive();
    front.send(encodeSocks5Datagram(host, answerPort, data), client.port, client.address);
  };
  let outbound: Outbound;
  try {
    outbound =
      chain.length > 0
        ? chainOutbound(
            session,
            await openUdpChain(chain, answer, {
              timeout: options.connectTimeout ?? DEFAULT_PROXY_CONNECT_TIMEOUT,
            }),
          )
        : directOutbound(session, answer);
  } catch (err) {
    front.close();
    return refuse(
      socks5ReplyFor(err),
      `failed: upstream ${describeConnectFailure(err).replace(/^connect /, 'associate ')}`,
    );
  }
  const bound = front.address();
  conn.socket.write(encodeSocks5Reply(Socks5Reply.succeeded, local, bound.port));
  session.note(
    `udp associate: relaying on ${formatHostPort(local, bound.port)}` +
      (chain.length > 0 ? ` through ${chain.map(formatProxyUrl).join(', ')}` : ''),
  );

  front.on('message', (datagram: Buffer, from: RemoteInfo) => {
    // Only the client's own datagrams are relayed: anyone else could use the port otherwise.
    if (unmapIPv4(from.address) !== clientIp) return;
    if (client && client.port !== from.port) return;
    stillActive();
    client ??= { address: from.address, port: from.port };
    let message: ReturnType<typeof decodeSocks5Datagram>;
    try {
      message = decodeSocks5Datagram(datagram);
    } catch {
      return; // RFC 1928 §7: a datagram that cannot be relayed is dropped silently.
    }
    if (message.fragment !== 0) return; // sockkit does not reassemble fragments (§7 allows dropping them).
    // Nothing can be sent to port 0, and a name is one a resolver takes, as CONNECT checks it.
    if (message.port === 0) return;
    if (isIP(message.host) === 0 && !isHostName(message.host)) return;
    try {
      outbound.send(message.host, message.port, message.data);
    } catch {
      // The last line of defence: one datagram that cannot be sent is dropped, never the proxy.
    }
  });

  // The association ends with the TCP connection (§7); whatever the client sends on it is ignored.
  // A client that half-closes the TCP connection is done with it: the association ends too.
  session.reader.release();
  conn.socket.on('data', () => {});
  conn.socket.once('end', () => conn.close());
  const upstreamLeft = await Promise.race([conn.closed.then(() => false), outbound.ended.then(() => true)]);
  if (upstreamLeft) {
    session.fail('ended: the upstream proxy ended the association');
    conn.close();
  }
  front.close();
  outbound.close();
}

/**
 * directOutbound sends each datagram to its destination itself: a name resolved here, every
 * address judged. Only answers from a place the client has sent to (at most MAX_UDP_PEERS of
 * them) are passed back.
 */
function directOutbound(session: ProxySession, answer: UdpChainAnswer): Outbound {
  const { options } = session;
  const sockets = new Map<'udp4' | 'udp6', UdpSocket>();
  const peers = new Set<string>();
  const socketFor = (kind: 'udp4' | 'udp6'): UdpSocket => {
    let socket = sockets.get(kind);
    if (socket) return socket;
    socket = createSocket(kind);
    socket.on('error', () => {});
    socket.on('message', (data: Buffer, from: RemoteInfo) => {
      const sender = unmapIPv4(from.address);
      if (peers.has(formatHostPort(sender, from.port))) answer(sender, from.port, data);
    });
    sockets.set(kind, socket);
    return socket;
  };
  const relayOut = async (host: string, port: number, data: Buffer): Promise<void> => {
    let ip = isIP(host) !== 0 ? unmapIPv4(host) : undefined;
    if (!ip) {
      try {
        ip = (await resolveHost(host))[0]?.ip;
      } catch {
        return;
      }
    }
    if (!ip) return;
    const verdict = options.rules?.judge(host, port, [ip]) ?? { allowed: true };
    if (!verdict.allowed) return;
    const key = formatHostPort(ip, port);
    if (!peers.has(key)) {
      if (peers.size >= MAX_UDP_PEERS) return;
      peers.add(key);
    }
    session.bytesUp += data.length;
    socketFor(isIP(ip) === 6 ? 'udp6' : 'udp4').send(data, port, ip);
  };
  return {
    send: (host, port, data) => void relayOut(host, port, data).catch(() => {}),
    ended: new Promise<void>(() => {}),
    close: () => {
      for (const socket of sockets.values()) socket.close();
    },
  };
}

/**
 * chainOutbound sends each datagram into an upstream association. Names are left to the last hop,
 * as CONNECT leaves them (only name rules can allow them); answers are what the chain relays back.
 */
function chainOutbound(session: ProxySession, chain: UdpChain): Outbound {
  return {
    send: (host, port, data) => {
      const verdict = session.options.rules?.judge(host, port, []) ?? { allowed: true };
      if (!verdict.allowed) return;
      session.bytesUp += data.length;
      chain.send(host, port, data);
    },
    ended: chain.ended,
    close: () => chain.close(),
  };
}
