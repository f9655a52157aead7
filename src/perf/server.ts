/**
 * The `sockkit perf` server: iperf3's protocol, but any number of tests at once, each independent.
 * Every accepted connection opens with a cookie; a new cookie starts a test (that connection is
 * its control connection), a known one adds a data stream to its test, and a known one ending in
 * `!` is a sockkit client's responsiveness probe, which the server echoes. UDP streams announce
 * themselves with one datagram on the same port and are told apart by their address.
 */
import type { Socket } from 'node:net';
import type { InetAddress } from '../address.js';
import { listenPackets } from '../datagram/listen-packet.js';
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { Conn } from '../stream/conn.js';
import { type Listener, type ListenOptions, listen } from '../stream/listen.js';
import { readInto } from '../stream/read-into.js';
import { serve } from '../stream/serve.js';
import { ControlChannel } from './control-channel.js';
import { decodeCookie, encodeState, PerfState } from './control-codec.js';
import { ServerTest, type ServerTestHost, type ServerTestSummary } from './server-test.js';
import { UDP_CONNECT_REPLY } from './udp-header.js';
import { UDP_RECEIVE_BUFFER } from './udp-stream.js';

/** PerfServeOptions tune `servePerf`. */
export interface PerfServeOptions {
  /** Aborting it stops accepting; running tests get `grace` ms to finish, then are closed. */
  readonly signal: AbortSignal;
  /** Default 5000 ms. */
  readonly grace?: number | undefined;
  /**
   * The bound on each step a client takes outside the measured time: sending its cookie, its
   * parameters, opening its streams, sending its results. Default 10 000 ms.
   */
  readonly setupTimeout?: number | undefined;
  /** onTest is told about every test that ends, completed or not. */
  readonly onTest?: ((summary: ServerTestSummary) => void) | undefined;
}

/** PerfServeSummary counts what a perf server did, for its shutdown report. */
export interface PerfServeSummary {
  readonly tests: number;
  readonly failed: number;
  /** Connections refused: a data stream or probe for no test that wanted it, or no cookie at all. */
  readonly refused: number;
}

/** The largest reply a probe may leave queued before the server gives up on that probe. */
const MAX_PROBE_BACKLOG = 1 << 20;

/** PerfListeners are the sockets of one perf server address: TCP, and UDP on the same port. */
export interface PerfListeners {
  readonly listener: Listener;
  readonly packetConns: readonly PacketConn[];
}

/**
 * listenPerf binds `address` (a tcp:// URL) for TCP, then the same host and port for UDP, as
 * iperf3 uses both. Rejects as `listen` and `listenPackets` do (`address already in use`).
 */
export async function listenPerf(address: InetAddress, options: ListenOptions = {}): Promise<PerfListeners> {
  const listener = await listen(address, options);
  const bound = listener.address as InetAddress;
  try {
    const packetConns = await listenPackets(
      { ...address, scheme: 'udp', port: bound.port },
      {
        signal: options.signal,
        trace: options.trace,
        ipv6Only: options.ipv6Only,
        sendQueueLimit: 512,
        // Room for a burst of datagrams while the event loop is busy (the kernel caps it at rmem_max).
        receiveBufferSize: UDP_RECEIVE_BUFFER,
      },
    );
    return { listener, packetConns };
  } catch (err) {
    await listener.close();
    throw err;
  }
}

/**
 * servePerf runs the perf server on `listeners` until `options.signal` aborts, then resolves with
 * a summary once every connection is closed. It never rejects for a client's doing: a peer that
 * vanishes, sends garbage or never sends its parameters ends its own test within the bounds above.
 */
export async function servePerf(
  listeners: readonly PerfListeners[],
  options: PerfServeOptions,
): Promise<PerfServeSummary> {
  const server = new PerfServer(options);
  for (const { packetConns } of listeners) {
    for (const conn of packetConns) conn.onMessage((data, peer) => server.datagram(conn, data, peer));
  }
  await serve(
    listeners.map((l) => l.listener),
    (conn) => server.accept(conn),
    { signal: options.signal, grace: options.grace },
  );
  server.closeAll();
  return server.summary();
}

/** PerfServer holds the tests in progress; one per `servePerf` call, so two servers never share state. */
class PerfServer implements ServerTestHost {
  readonly setupTimeout: number;
  readonly #options: PerfServeOptions;
  readonly #tests = new Map<string, ServerTest>();
  readonly #udpPeers = new Map<string, { sink: (datagram: Buffer) => void; test: ServerTest }>();
  readonly #udpSetup = new Map<string, Promise<void>>();
  readonly #udpOpening = new Map<string, ServerTest>();
  #accepted = 0;
  #finished = 0;
  #failed = 0;
  #refused = 0;

  constructor(options: PerfServeOptions) {
    this.#options = options;
    this.setupTimeout = options.setupTimeout ?? 10_000;
  }

  /** accept reads the cookie of a new connection and hands the connection to whom it names. */
  accept(conn: Conn): void {
    const order = ++this.#accepted;
    let head = Buffer.alloc(0);
    let deliver: ((chunk: Buffer, socket: Socket) => void) | undefined;
    const timer = setTimeout(() => conn.close(), this.setupTimeout);
    const onRead = (chunk: Buffer, socket: Socket): void => {
      if (deliver) {
        deliver(chunk, socket);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let found: ReturnType<typeof decodeCookie>;
      try {
        found = decodeCookie(head);
      } catch {
        clearTimeout(timer);
        this.#refuse(conn);
        return;
      }
      if (!found) return;
      clearTimeout(timer);
      const rest = head.subarray(found.used);
      deliver = this.#route(conn, found.value.cookie, found.value.probe, order) ?? (() => {});
      if (rest.length > 0) deliver(rest, socket);
    };
    if (!readInto(conn.socket, onRead)) conn.socket.on('data', (chunk: Buffer) => onRead(chunk, conn.socket));
    conn.socket.once('close', () => clearTimeout(timer));
    // No perf connection half-closes on purpose: a peer's FIN (a client gone mid-test) closes
    // ours too, or the socket would linger half-open, invisible to the event loop, until shutdown.
    conn.socket.once('end', () => conn.socket.end());
  }

  /** datagram handles one UDP datagram: a stream's data, or a new stream saying hello. */
  datagram(conn: PacketConn, data: Buffer, peer: Peer): void {
    const key = `${peer.address}|${peer.port}`;
    const known = this.#udpPeers.get(key);
    if (known) {
      // The client sends its hello again when our answer was lost: answer again, until the test runs.
      if (data.length === 4 && !known.test.running) conn.write(UDP_CONNECT_REPLY, peer);
      else known.sink(data);
      return;
    }
    const test = this.#udpOpening.get(unmapped(peer.address));
    if (!test) return;
    const sink = test.attachUdp(
      (datagram) => {
        const dropped = conn.dropped;
        conn.write(datagram, peer);
        return conn.dropped === dropped;
      },
      () => conn.socket.getSendQueueCount(),
    );
    if (!sink) return;
    this.#udpPeers.set(key, { sink, test });
    test.control.conn.socket.once('close', () => this.#udpPeers.delete(key));
    conn.write(UDP_CONNECT_REPLY, peer);
  }

  async claimUdpSetup(ip: string, test: ServerTest): Promise<() => void> {
    const key = unmapped(ip);
    // One test per client address opens UDP streams at a time: their datagrams carry no cookie,
    // so the address is all that says which test a new stream belongs to.
    for (;;) {
      const busy = this.#udpSetup.get(key);
      if (!busy) break;
      await busy;
    }
    let release = (): void => {};
    this.#udpSetup.set(
      key,
      new Promise<void>((resolve) => {
        release = () => {
          if (this.#udpOpening.get(key) === test) this.#udpOpening.delete(key);
          this.#udpSetup.delete(key);
          resolve();
        };
      }),
    );
    this.#udpOpening.set(key, test);
    return release;
  }

  finished(test: ServerTest, summary: ServerTestSummary): void {
    if (this.#tests.get(test.cookie) === test) this.#tests.delete(test.cookie);
    this.#finished += 1;
    if (summary.error) this.#failed += 1;
    this.#options.onTest?.(summary);
  }

  closeAll(): void {
    for (const test of this.#tests.values()) test.close();
  }

  summary(): PerfServeSummary {
    return { tests: this.#finished, failed: this.#failed, refused: this.#refused };
  }

  #route(
    conn: Conn,
    cookie: string,
    probe: boolean,
    order: number,
  ): ((chunk: Buffer, socket: Socket) => void) | undefined {
    const test = this.#tests.get(cookie);
    if (probe) {
      if (!test?.params?.sockkit) return this.#refuse(conn);
      return (chunk, socket) => {
        // An echo: the probe's client measures how long its bytes take to come back.
        if (socket.writableLength > MAX_PROBE_BACKLOG) return void conn.close();
        socket.write(Buffer.from(chunk));
      };
    }
    if (test) {
      const sink = test.attachTcp(conn, order);
      return sink ? (chunk) => sink(chunk) : this.#refuse(conn);
    }
    const control = new ControlChannel(conn, 'perf', false);
    const peerIp = conn.remoteAddress.scheme === 'unix' ? '' : (conn.remoteAddress as InetAddress).host;
    const created = new ServerTest(cookie, control, peerIp, this);
    this.#tests.set(cookie, created);
    void created.run();
    return (chunk) => control.push(chunk);
  }

  /** #refuse answers ACCESS_DENIED, as iperf3 does to a connection it does not want, and closes. */
  #refuse(conn: Conn): undefined {
    this.#refused += 1;
    if (!conn.socket.destroyed) conn.socket.end(encodeState(PerfState.ACCESS_DENIED));
    conn.socket.destroySoon();
    return undefined;
  }
}

/** unmapped turns `::ffff:127.0.0.1` into `127.0.0.1`, so a dual-stack socket's peers compare alike. */
function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
