/**
 * forward is port forwarding: every client accepted on a listening address is joined to a new
 * connection to one of the targets (or to a program of its own), round-robin, until a signal stops it.
 */

import { setMaxListeners } from 'node:events';
import { isWebSocket, type SocketAddress } from '../address.js';
import type { StreamTapFactory } from '../capture/tap.js';
import { SchemeError, type SockkitError, UsageError } from '../errors.js';
import type { ProxyUrl } from '../proxy/proxy-url.js';
import type { LimitEvent } from '../security/limit-event.js';
import type { Conn } from '../stream/conn.js';
import { peerLabel } from '../stream/conn.js';
import { type AcceptGuard, type Listener, listen } from '../stream/listen.js';
import { readIntoHeld } from '../stream/read-into.js';
import { serve } from '../stream/serve.js';
import type { TcpClientOptions } from '../stream/tcp-options.js';
import type { TlsClientOptions } from '../stream/tls.js';
import type { ServerTransportOptions } from '../stream/transports.js';
import type { Tracer } from '../trace.js';
import { listenWebSocket } from '../websocket/listen-websocket.js';
import { WebSocketConn } from '../websocket/websocket-conn.js';
import type { WebSocketClientOptions } from '../websocket/websocket-options.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { type ForwardPacketsOptions, forwardPackets } from './forward-packets.js';
import type { ForwardEvent, Forwarder, ForwardSummary } from './forwarder.js';
import { type JoinFilters, join } from './join.js';
import { openEndpoint } from './open-endpoint.js';
import type { ProgramSide } from './program.js';
import { type BridgeSide, connSide } from './side.js';
import { webSocketSide } from './websocket-side.js';

// What a running forward hands back, kept apart so that forwardPackets can share it without an
// import circle; re-exported here, where callers of `forward` look for it.
export type { ForwardEvent, Forwarder, ForwardSummary } from './forwarder.js';

/** BridgeConn is a client a forward accepted: a stream connection, or a WebSocket one (ws://, wss://). */
export type BridgeConn = Conn | WebSocketConn;

/**
 * BridgePair is one client and what it was joined to, as `onPair` sees it before any byte is
 * copied: the place to attach an observer (a capture) or a fault plan.
 */
export interface BridgePair {
  /** A number that tells the pairs of one forward apart, from 1. */
  readonly id: number;
  readonly client: BridgeConn;
  /** The client's side, as the bridge reads and writes it. */
  readonly clientSide: BridgeSide;
  /** The target's connection, when the target is a socket (undefined for a program). */
  readonly upstream: BridgeConn | undefined;
  readonly target: Endpoint;
  /** The target's side, as the bridge reads and writes it. */
  readonly targetSide: BridgeSide;
}

/** ForwardOptions tune `forward`. Only `signal` is required. */
export interface ForwardOptions extends ServerTransportOptions {
  /** Aborting it stops: no more clients, open ones get `grace`, then everything is closed. */
  readonly signal: AbortSignal;
  readonly trace?: Tracer | undefined;
  /** Limits and access control on the listening side (see ConnectionGuard). */
  readonly guard?: AcceptGuard | undefined;
  readonly ipv6Only?: boolean | undefined;
  /** The listener's accept queue (see ListenOptions.backlog). `tcp` applies to every accepted client. */
  readonly backlog?: number | undefined;
  /** How long open clients may take to finish after the signal, in ms. Default 5000. */
  readonly grace?: number | undefined;
  /** TLS settings for `tls://` and `wss://` targets: CAs, server name, client certificate, pinning. */
  readonly targetTls?: TlsClientOptions | undefined;
  /** WebSocket settings for `ws://` and `wss://` targets: headers, subprotocols, Origin, pings. */
  readonly targetWs?: WebSocketClientOptions | undefined;
  /** Proxies to reach the socket targets through, first hop first (see DialOptions.proxy). */
  readonly targetProxy?: readonly ProxyUrl[] | undefined;
  /** TCP options of the connections to `tcp://` and `tls://` targets: local end, keepalive, Nagle. */
  readonly targetTcp?: TcpClientOptions | undefined;
  /** Try only IPv4 (4) or IPv6 (6) addresses of a target's name (udp:// targets too). */
  readonly targetFamily?: 4 | 6 | undefined;
  /** A bound on connecting to one target, in ms. Default 10000. */
  readonly connectTimeout?: number | undefined;
  /** How long a program target may take to exit once its client is done, in ms (see startProgram). */
  readonly programGrace?: number | undefined;
  /** onProgram is told of each program target started (see OpenEndpointOptions.onProgram). It must not throw. */
  readonly onProgram?: ((program: ProgramSide) => void) | undefined;
  /**
   * onPair is called with each client and its target before any byte is copied; the filters it
   * returns sit on the way of each direction (see JoinFilters). It must not throw: a hook that
   * does closes that client only, as a `service-error`.
   */
  readonly onPair?: ((pair: BridgePair) => JoinFilters | undefined) | undefined;
  /** onEvent is told of targets skipped and clients no target took. It must not throw. */
  readonly onEvent?: ((event: ForwardEvent) => void) | undefined;
  /** report is told when a client is closed by the last line of defence (`service-error`). */
  readonly report?: ((event: LimitEvent) => void) | undefined;
  /** Asked for a tap for each client connection, to see its bytes both ways (see Capture). */
  readonly tap?: StreamTapFactory | undefined;
  /** udp:// only: see ForwardPacketsOptions. */
  readonly udp?: Omit<ForwardPacketsOptions, 'signal' | 'trace' | 'onEvent'> | undefined;
}

/**
 * forward binds `address` and resolves, once it listens, with the running Forwarder. Every
 * client is joined (see `join`: backpressure and half-close both ways) to a new connection to a
 * target, taken round-robin; a target that fails (refused, timed out, a program that cannot
 * start) is skipped for the next one, and a client that no target takes is closed at once, with
 * one `no-target` event (a WebSocket client is closed with 1011). Targets may be socket URLs (tcp,
 * tls, unix, ws, wss) or programs (each client gets its own). A `ws://` or `wss://` address takes
 * WebSocket clients (see listenWebSocket, with `options.ws`), and a WebSocket on either side is
 * bridged as `webSocketSide` says: each message's bytes one way, each chunk a binary message the
 * other. A `udp://` address forwards datagrams to `udp://` targets (see forwardPackets).
 * Rejects as `listen` does; throws UsageError for no targets, for `-` as a target, and SchemeError
 * for a target that cannot serve the address's kind.
 */
export async function forward(
  address: SocketAddress,
  targets: readonly Endpoint[],
  options: ForwardOptions,
): Promise<Forwarder> {
  checkTargets(address, targets);
  if (address.scheme === 'udp') {
    const targetAddresses = targets.map((t) => (t as { address: SocketAddress }).address);
    return forwardPackets(address, targetAddresses, {
      ...options.udp,
      signal: options.signal,
      trace: options.trace,
      ipv6Only: options.ipv6Only,
      onEvent: options.onEvent,
      upstream: { ...options.udp?.upstream, family: options.targetFamily },
    });
  }
  const { signal } = options;
  const listenOptions = {
    signal,
    trace: options.trace,
    tls: options.tls,
    guard: options.guard,
    ipv6Only: options.ipv6Only,
    backlog: options.backlog,
    tcp: options.tcp,
    tap: options.tap,
  };
  // A Listener only hands connections out, so one of either kind is read soundly as the union.
  const listener = (isWebSocket(address)
    ? await listenWebSocket(address, { ...listenOptions, ws: options.ws })
    : await listen(address, listenOptions)) as unknown as Listener<BridgeConn>;
  // Each target being reached listens on the signal it is dialled with, one per client at once
  // (a burst of clients, or a target slow to answer): bounded by the clients, not a leak, so
  // this forward's own signal takes them without Node's warning past ten.
  const dialing = new AbortController();
  setMaxListeners(0, dialing.signal);
  if (signal.aborted) dialing.abort();
  else signal.addEventListener('abort', () => dialing.abort(), { once: true });
  const tell = options.onEvent ?? ignore;
  const totals = { noTarget: 0, bytesToTargets: 0, bytesToClients: 0 };
  const bridges = new Set<Promise<void>>();
  let next = 0;
  let pairs = 0;

  const connectTarget = async (
    client: BridgeConn,
  ): Promise<{ side: BridgeSide; conn?: BridgeConn | undefined; target: Endpoint } | undefined> => {
    const first = next;
    next = (next + 1) % targets.length;
    const errors: SockkitError[] = [];
    for (let i = 0; i < targets.length && !signal.aborted; i += 1) {
      const target = targets[(first + i) % targets.length] as Endpoint;
      try {
        const opened = await openEndpoint(target, {
          signal: dialing.signal,
          trace: options.trace,
          tls: options.targetTls,
          ws: options.targetWs,
          proxy: options.targetProxy,
          tcp: options.targetTcp,
          family: options.targetFamily,
          timeout: options.connectTimeout ?? 10_000,
          connection: client,
          programGrace: options.programGrace,
          onProgram: options.onProgram,
        });
        return { ...opened, target };
      } catch (err) {
        const error = err as SockkitError;
        errors.push(error);
        if (i + 1 < targets.length)
          tell({
            type: 'target-skipped',
            peer: peerLabel(client.remoteAddress),
            target: formatEndpoint(target),
            error,
          });
      }
    }
    if (!signal.aborted) {
      totals.noTarget += 1;
      tell({ type: 'no-target', peer: peerLabel(client.remoteAddress), errors });
    }
    return undefined;
  };

  const bridge = async (client: BridgeConn): Promise<void> => {
    // Fast reads start now, before the client's first bytes (often sent at once, while the
    // target is being reached) are read the usual way and rule them out for the connection.
    const fastReads =
      options.tap === undefined &&
      (client instanceof WebSocketConn || client.tracing ? undefined : readIntoHeld(client.socket));
    const upstream = await connectTarget(client);
    if (!upstream) {
      if (client instanceof WebSocketConn) void client.close(1011, 'no target answered');
      else client.close();
      return;
    }
    // The client may have gone while its target was being reached. A WebSocket client's messages
    // are kept with its connection, and its side passes them on before its end.
    if (!(client instanceof WebSocketConn) && client.socket.destroyed) {
      upstream.side.close();
      return;
    }
    pairs += 1;
    const label = peerLabel(client.remoteAddress);
    const clientSide =
      client instanceof WebSocketConn
        ? webSocketSide(client, label)
        : connSide(client, label, fastReads || options.tap === undefined);
    let filters: JoinFilters | undefined;
    try {
      filters = options.onPair?.({
        id: pairs,
        client,
        clientSide,
        upstream: upstream.conn,
        target: upstream.target,
        targetSide: upstream.side,
      });
    } catch (err) {
      upstream.side.close();
      throw err;
    }
    const summary = await join(clientSide, upstream.side, { filters });
    totals.bytesToTargets += summary.bytesAToB;
    totals.bytesToClients += summary.bytesBToA;
  };

  const done = (async (): Promise<ForwardSummary> => {
    const served = await serve(
      [listener],
      (client) => {
        const running = bridge(client).catch((err: unknown) => {
          // The last line of defence: a hook that threw loses this client only.
          client.close();
          const detail = err instanceof Error ? err.message : String(err);
          options.report?.({
            limit: 'service-error',
            peer: peerLabel(client.remoteAddress),
            detail: `closed: the forward failed on this connection: ${detail}`,
          });
        });
        bridges.add(running);
        void running.then(() => bridges.delete(running));
      },
      { signal, grace: options.grace, report: options.report },
    );
    // Every client is closed by now; their targets follow (a program is given its grace).
    await Promise.all(bridges);
    return {
      clients: served.connections,
      noTarget: totals.noTarget,
      bytesToTargets: totals.bytesToTargets,
      bytesToClients: totals.bytesToClients,
      forciblyClosed: served.forciblyClosed,
      dropped: 0,
    };
  })();
  return { addresses: listener.addresses, done };
}

function checkTargets(address: SocketAddress, targets: readonly Endpoint[]): void {
  if (targets.length === 0) throw new UsageError('forward', 'no target given');
  for (const target of targets) {
    if (target.kind === 'stdio')
      throw new UsageError('forward', '- (stdin and stdout) cannot be a target: each client needs its own');
    const datagram = target.kind === 'socket' && target.address.scheme === 'udp';
    if (datagram !== (address.scheme === 'udp')) {
      const url = formatEndpoint(target);
      throw address.scheme === 'udp'
        ? new SchemeError(
            'forward',
            url,
            target.kind === 'socket' ? target.address.scheme : 'exec',
            ['udp'],
            'a udp:// listener forwards to udp:// targets only',
          )
        : new SchemeError(
            'forward',
            url,
            'udp',
            ['tcp', 'tls', 'unix', 'ws', 'wss'],
            `a ${address.scheme} listener forwards to tcp://, tls://, unix:, ws://, wss:// or program targets, not udp://`,
          );
    }
  }
}

function ignore(): void {}
