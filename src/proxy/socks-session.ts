/**
 * The SOCKS side of the proxy server: SOCKS5 (RFC 1928) with its username/password login
 * (RFC 1929), CONNECT and UDP ASSOCIATE, and SOCKS4a CONNECT. Each takes a ProxySession whose
 * reader holds the client's bytes, and answers with the codecs of socks5-codec.ts / socks4-codec.ts.
 */
import { isIP } from 'node:net';
import { isHostName } from './host-name.js';
import {
  connectUpstream,
  describeConnectFailure,
  destinationLabel,
  type ProxySession,
} from './proxy-session.js';
import { decodeSocks4Request, encodeSocks4Reply, Socks4Reply } from './socks4-codec.js';
import {
  decodeSocks5Greeting,
  decodeSocks5Login,
  decodeSocks5Request,
  encodeSocks5Choice,
  encodeSocks5LoginStatus,
  encodeSocks5Reply,
  isUnsupportedAddressType,
  Socks5Command,
  Socks5Method,
  Socks5Reply,
  type Socks5Request,
  socks5ReplyFor,
} from './socks5-codec.js';
import { serveUdpAssociate } from './udp-associate.js';

/** serveSocks5 runs a SOCKS5 client's session: method choice, login, request, then its tunnel or UDP relay. */
export async function serveSocks5(session: ProxySession): Promise<void> {
  session.protocol = 'socks5';
  const { conn, reader, options } = session;
  const greeting = await reader.read(decodeSocks5Greeting);
  const users = options.users;
  const wantLogin = users !== undefined && users.size > 0;
  const method = wantLogin
    ? greeting.methods.includes(Socks5Method.password)
      ? Socks5Method.password
      : Socks5Method.noneAcceptable
    : greeting.methods.includes(Socks5Method.none)
      ? Socks5Method.none
      : Socks5Method.noneAcceptable;
  conn.socket.write(encodeSocks5Choice(method));
  if (method === Socks5Method.noneAcceptable) {
    session.fail(wantLogin ? 'refused: no login offered' : 'refused: no authentication method in common');
    session.end();
    return;
  }
  if (method === Socks5Method.password) {
    const login = await reader.read(decodeSocks5Login);
    const accepted = users?.check(login.username, login.password) === true;
    conn.socket.write(encodeSocks5LoginStatus(accepted));
    if (!accepted) {
      session.fail(`refused: login failed for user ${JSON.stringify(login.username)}`);
      session.end();
      return;
    }
    session.user = login.username;
  }
  let request: Socks5Request;
  try {
    request = await reader.read(decodeSocks5Request);
  } catch (err) {
    if (isUnsupportedAddressType(err))
      conn.socket.write(encodeSocks5Reply(Socks5Reply.addressTypeNotSupported));
    throw err;
  }
  session.handshakeDone();
  const { command, host, port } = request;
  session.destination = destinationLabel(host, port);
  if (isIP(host) === 0 && !isHostName(host)) {
    conn.socket.write(encodeSocks5Reply(Socks5Reply.hostUnreachable));
    session.fail('refused: malformed destination name');
    session.end();
    return;
  }
  if (command === Socks5Command.udpAssociate) {
    session.command = 'udp-associate';
    return serveUdpAssociate(session, host, port);
  }
  if (command !== Socks5Command.connect) {
    conn.socket.write(encodeSocks5Reply(Socks5Reply.commandNotSupported));
    session.fail(`refused: command ${command} not supported`);
    session.end();
    return;
  }
  session.command = 'connect';
  session.note(`socks5 connect ${session.destination}`);
  let upstream: Awaited<ReturnType<typeof connectUpstream>>;
  try {
    upstream = await connectUpstream(host, port, options);
  } catch (err) {
    conn.socket.write(encodeSocks5Reply(socks5ReplyFor(err)));
    session.fail(describeConnectFailure(err));
    session.end();
    return;
  }
  if ('denied' in upstream) {
    conn.socket.write(encodeSocks5Reply(Socks5Reply.notAllowed));
    session.fail(`refused: ${upstream.denied}`);
    session.end();
    return;
  }
  const bound = upstream.socket;
  conn.socket.write(
    encodeSocks5Reply(Socks5Reply.succeeded, bound.localAddress ?? '0.0.0.0', bound.localPort ?? 0),
  );
  session.note(`tunnel to ${session.destination} open`);
  await session.tunnel(bound);
}

/** serveSocks4 runs a SOCKS4 or SOCKS4a client's session: CONNECT only, and only where no login is required. */
export async function serveSocks4(session: ProxySession): Promise<void> {
  session.protocol = 'socks4a';
  const { conn, reader, options } = session;
  const request = await reader.read(decodeSocks4Request);
  session.handshakeDone();
  session.destination = destinationLabel(request.host, request.port);
  const refuse = async (why: string): Promise<void> => {
    conn.socket.write(encodeSocks4Reply(Socks4Reply.rejected));
    session.fail(`refused: ${why}`);
    session.end();
  };
  if (options.users && options.users.size > 0)
    return refuse('SOCKS4 has no password, and a login is required');
  if (request.command !== 1) return refuse(`command ${request.command} not supported`);
  if (isIP(request.host) === 0 && !isHostName(request.host)) return refuse('malformed destination name');
  session.command = 'connect';
  session.note(`socks4a connect ${session.destination}`);
  let upstream: Awaited<ReturnType<typeof connectUpstream>>;
  try {
    upstream = await connectUpstream(request.host, request.port, options);
  } catch (err) {
    conn.socket.write(encodeSocks4Reply(Socks4Reply.rejected));
    session.fail(describeConnectFailure(err));
    session.end();
    return;
  }
  if ('denied' in upstream) return refuse(upstream.denied);
  conn.socket.write(encodeSocks4Reply(Socks4Reply.granted));
  await session.tunnel(upstream.socket);
}
