/**
 * SOCKS5 UDP ASSOCIATE (RFC 1928 §7): the server opens a UDP port for the client, unwraps each
 * datagram the client sends there and passes it on to the destination its header names, and
 * wraps each answer with its sender's address on the way back. The association lasts as long as
 * the client's TCP connection.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { formatHostPort } from '../address.js';
import { resolveHost } from '../resolve.js';
import { unmapIPv4 } from '../security/access.js';
import type { ProxySession } from './proxy-session.js';
import {
  decodeSocks5Datagram,
  encodeSocks5Datagram,
  encodeSocks5Reply,
  Socks5Reply,
} from './socks5-codec.js';

/** MAX_UDP_PEERS bounds the destinations one association may have sent to (and accept answers from). */
const MAX_UDP_PEERS = 1024;

/**
 * serveUdpAssociate answers a UDP ASSOCIATE request and relays datagrams until the client's TCP
 * connection closes. Only datagrams from the client's address (and from `port`, when the request
 * named one) are relayed out; only answers from a place the client has sent to are relayed back.
 * Destinations are judged by the rules as CONNECT's are; a datagram to a denied one is dropped.
 */
export async function serveUdpAssociate(session: ProxySession, _host: string, port: number): Promise<void> {
  const { conn, options } = session;
  if (options.proxy && options.proxy.length > 0) {
    conn.socket.write(encodeSocks5Reply(Socks5Reply.commandNotSupported));
    session.fail('refused: UDP ASSOCIATE does not go through an upstream proxy');
    session.end();
    return;
  }
  const local = unmapIPv4(conn.socket.localAddress ?? '127.0.0.1');
  const clientIp = unmapIPv4(conn.socket.remoteAddress ?? '');
  const family = isIP(local) === 6 ? 'udp6' : 'udp4';
  const front = createSocket(family);
  const outbound = new Map<'udp4' | 'udp6', UdpSocket>();
  const peers = new Set<string>();
  let client: { address: string; port: number } | undefined =
    port === 0 ? undefined : { address: clientIp, port };
  const closeAll = (): void => {
    front.close();
    for (const socket of outbound.values()) socket.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, local, () => {
        front.off('error', reject);
        resolve();
      });
    });
  } catch {
    conn.socket.write(encodeSocks5Reply(Socks5Reply.generalFailure));
    session.fail('failed: could not open a UDP port');
    session.end();
    return;
  }
  front.on('error', () => {});
  const bound = front.address();
  conn.socket.write(encodeSocks5Reply(Socks5Reply.succeeded, local, bound.port));
  session.note(`udp associate: relaying on ${formatHostPort(local, bound.port)}`);

  const outboundFor = (kind: 'udp4' | 'udp6'): UdpSocket => {
    let socket = outbound.get(kind);
    if (socket) return socket;
    socket = createSocket(kind);
    socket.on('error', () => {});
    socket.on('message', (data: Buffer, from: RemoteInfo) => {
      const sender = unmapIPv4(from.address);
      if (!client || !peers.has(formatHostPort(sender, from.port))) return;
      session.bytesDown += data.length;
      stillActive();
      front.send(encodeSocks5Datagram(sender, from.port, data), client.port, client.address);
    });
    outbound.set(kind, socket);
    return socket;
  };

  // The TCP connection is silent while datagrams flow: each relayed one counts as activity
  // against an idle timeout (the guard's `setTimeout`), re-armed with its own value.
  const stillActive = (): void => {
    if (conn.socket.timeout) conn.socket.setTimeout(conn.socket.timeout);
  };
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
    void relayOut(message.host, message.port, message.data);
  });

  const relayOut = async (host: string, destinationPort: number, data: Buffer): Promise<void> => {
    let ip = isIP(host) !== 0 ? unmapIPv4(host) : undefined;
    if (!ip) {
      try {
        ip = (await resolveHost(host))[0]?.ip;
      } catch {
        return;
      }
    }
    if (!ip) return;
    const verdict = options.rules?.judge(host, destinationPort, [ip]) ?? { allowed: true };
    if (!verdict.allowed) return;
    const key = formatHostPort(ip, destinationPort);
    if (!peers.has(key)) {
      if (peers.size >= MAX_UDP_PEERS) return;
      peers.add(key);
    }
    session.bytesUp += data.length;
    outboundFor(isIP(ip) === 6 ? 'udp6' : 'udp4').send(data, destinationPort, ip);
  };

  // The association ends with the TCP connection (§7); whatever the client sends on it is ignored.
  // A client that half-closes the TCP connection is done with it: the association ends too.
  session.reader.release();
  conn.socket.on('data', () => {});
  conn.socket.once('end', () => conn.close());
  await conn.closed;
  closeAll();
}
