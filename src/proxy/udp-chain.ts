/**
 * The client side of SOCKS5 UDP ASSOCIATE (RFC 1928 §7) through a chain of SOCKS5 proxies, for a
 * proxy server whose clients' datagrams go through an upstream `--proxy`. Each hop gets its own
 * association, asked for over a control connection that reaches it through the hops before it
 * (the first directly); a datagram is wrapped once per hop, innermost for the destination, and
 * sent to the first hop's relay, which unwraps its layer and sends the rest to the second hop's
 * relay, and so on. Answers come back wrapped the same way and are unwrapped here.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP, type Socket } from 'node:net';
import type { SocksClient as SocksClientType, SocksRemoteHost } from 'socks';
import { ProtocolError, rewrap, type SockkitError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import { unmapIPv4 } from '../security/access.js';
import { dialSocket } from '../stream/dial.js';
import { socksError } from './proxy-chain.js';
import { formatProxyUrl, type ProxyUrl } from './proxy-url.js';
import { decodeSocks5Datagram, encodeSocks5Datagram } from './socks5-codec.js';

/** UdpChainAnswer receives each answer, unwrapped: who sent it (as the last hop saw it), and its data. */
export type UdpChainAnswer = (host: string, port: number, data: Buffer) => void;

/** UdpChain is an open association through every hop of a chain. */
export interface UdpChain {
  /** send wraps `data` for `host`:`port` (a name is left to the last hop) and sends it to the first relay. */
  send(host: string, port: number, data: Uint8Array): void;
  /** ended resolves when a hop's control connection ends: the association is then over (§7). */
  readonly ended: Promise<void>;
  /** close ends every control connection and the UDP socket. */
  close(): void;
}

/** UdpChainOptions bound opening the chain: a time in ms for all its handshakes. */
export interface UdpChainOptions {
  readonly timeout?: number | undefined;
}

/** firstHopWithoutUdp returns the first hop of `proxies` that cannot carry UDP (any but SOCKS5), if any. */
export function firstHopWithoutUdp(proxies: readonly ProxyUrl[]): ProxyUrl | undefined {
  return proxies.find((hop) => hop.protocol !== 'socks5');
}

/** Relay is where a hop takes datagrams. */
interface Relay {
  readonly host: string;
  readonly port: number;
}

/**
 * openUdpChain asks every hop of `proxies` (all SOCKS5: see firstHopWithoutUdp) for a UDP
 * association and resolves once all have answered; `onAnswer` then gets each answer. Rejects with
 * the error of the hop that failed, its url `associate PROXY`: ProxyRefusedError when a hop
 * refuses (`proxy refused: command not supported`), the dial's errors when one cannot be reached.
 */
export async function openUdpChain(
  proxies: readonly ProxyUrl[],
  onAnswer: UdpChainAnswer,
  options: UdpChainOptions = {},
): Promise<UdpChain> {
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
  const controls: Socket[] = [];
  const relays: Relay[] = [];
  let udp: UdpSocket | undefined;
  const closeAll = (): void => {
    for (const control of controls) control.destroy();
    udp?.close();
    udp = undefined;
  };
  try {
    for (const [i, hop] of proxies.entries()) {
      const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      const dialed = await dialSocket(
        { scheme: 'tcp', host: hop.host, port: hop.port },
        { timeout: left, proxy: proxies.slice(0, i) },
      );
      const control = dialed.socket;
      controls.push(control);
      control.on('error', () => {});
      let expected: Relay = { host: '0.0.0.0', port: 0 };
      if (i === 0) {
        // The first hop hears from our own UDP port: name it, so the hop relays nobody else's.
        udp = await boundUdp(unmapIPv4(control.localAddress ?? '0.0.0.0'));
        expected = { host: unmapIPv4(udp.address().address), port: udp.address().port };
      }
      const answered = await associate(control, hop, expected, left);
      relays.push(await relayAddress(answered, i === 0 ? control.remoteAddress : undefined, hop));
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  const socket = udp as UdpSocket;
  const first = relays[0] as Relay;
  socket.on('error', () => {});
  socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
    // Only the first relay speaks to this port: anything else is somebody's injection.
    if (unmapIPv4(from.address) !== first.host || from.port !== first.port) return;
    const answer = unwrap(datagram, relays);
    if (answer) onAnswer(answer.host, answer.port, answer.data);
  });
  const ended = new Promise<void>((resolve) => {
    for (const control of controls) {
      if (control.destroyed || control.readableEnded) resolve();
      control.on('data', () => {});
      control.once('end', () => resolve());
      control.once('close', () => resolve());
    }
  });
  void ended.then(closeAll);
  return {
    send(host, port, data) {
      let payload = encodeSocks5Datagram(host, port, data);
      for (let k = relays.length - 1; k >= 1; k -= 1) {
        const relay = relays[k] as Relay;
        payload = encodeSocks5Datagram(relay.host, relay.port, payload);
      }
      udp?.send(payload, first.port, first.host);
    },
    ended,
    close: closeAll,
  };
}

/**
 * unwrap takes one layer off per hop: each inner layer must come from the next hop's relay (when
 * its address is known as an IP), and no layer may be a fragment (§7: sockkit does not reassemble).
 * Undefined for a datagram to drop.
 */
function unwrap(
  datagram: Buffer,
  relays: readonly Relay[],
): { host: string; port: number; data: Buffer } | undefined {
  let layer: ReturnType<typeof decodeSocks5Datagram>;
  try {
    layer = decodeSocks5Datagram(datagram);
    for (let k = 1; k < relays.length; k += 1) {
      const relay = relays[k] as Relay;
      if (layer.fragment !== 0) return undefined;
      if (isIP(relay.host) !== 0 && (unmapIPv4(layer.host) !== relay.host || layer.port !== relay.port))
        return undefined;
      layer = decodeSocks5Datagram(layer.data);
    }
  } catch {
    return undefined; // RFC 1928 §7: a datagram that cannot be relayed is dropped silently.
  }
  if (layer.fragment !== 0) return undefined;
  return { host: unmapIPv4(layer.host), port: layer.port, data: layer.data };
}

/** boundUdp opens a UDP socket on `address`, any port. */
async function boundUdp(address: string): Promise<UdpSocket> {
  const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/**
 * relayAddress is where a hop said to send datagrams. An unspecified address (0.0.0.0, ::) means
 * the hop's own: the address its control connection reached (first hop), or its URL's host.
 */
async function relayAddress(answered: Relay, reached: string | undefined, hop: ProxyUrl): Promise<Relay> {
  const unspecified = answered.host === '' || answered.host === '0.0.0.0' || answered.host === '::';
  const host = unmapIPv4(unspecified ? (reached ?? hop.host) : answered.host);
  // The first relay is sent to, so it must be an address; later ones are names their hop may resolve.
  if (reached === undefined || isIP(host) !== 0) return { host, port: answered.port };
  const resolved = (await resolveHost(host))[0];
  if (!resolved) throw new ProtocolError('associate', formatProxyUrl(hop), `relay ${host} does not resolve`);
  return { host: unmapIPv4(resolved.ip), port: answered.port };
}

/**
 * associate runs the SOCKS5 handshake on `control` (connected to `hop`) for UDP ASSOCIATE,
 * telling the hop the datagrams will come from `expected`, and resolves with the relay it answers.
 */
async function associate(
  control: Socket,
  hop: ProxyUrl,
  expected: Relay,
  timeout: number | undefined,
): Promise<Relay> {
  const url = formatProxyUrl(hop);
  // Loaded on first use, as for CONNECT (proxy-chain.ts).
  const { SocksClient } = await import('socks');
  let client: SocksClientType;
  try {
    client = new SocksClient({
      proxy: {
        host: hop.host,
        port: hop.port,
        type: 5,
        ...(hop.username === undefined ? {} : { userId: hop.username, password: hop.password ?? '' }),
      },
      command: 'associate',
      destination: expected,
      existing_socket: control,
      ...(timeout === undefined ? {} : { timeout }),
    });
  } catch (err) {
    throw rewrap(err, 'associate', url);
  }
  return new Promise<Relay>((resolve, reject) => {
    client.once('established', (info: { remoteHost?: SocksRemoteHost }) => {
      client.removeAllListeners();
      resolve({ host: info.remoteHost?.host ?? '', port: info.remoteHost?.port ?? 0 });
    });
    client.once('error', (err: Error) => {
      client.removeAllListeners();
      reject(socksError(err, url, 'associate') as SockkitError);
    });
    client.connect(control);
  });
}
