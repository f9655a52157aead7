/**
 * The `sockkit perf` client: runs one test against an iperf3 server (`iperf3 -s`) or a sockkit
 * perf server, speaking iperf3's protocol, and reports both sides' figures. Against a sockkit
 * server it also measures responsiveness on a separate connection; against iperf3 that is off.
 */
import { formatAddress, type InetAddress } from '../address.js';
import { dialPacket } from '../datagram/dial-packet.js';
import type { PacketConn } from '../datagram/packet-conn.js';
import {
  AbortError,
  ConnectionRefusedError,
  fromSystemError,
  isSockkitError,
  NoReplyError,
  ProtocolError,
  UsageError,
} from '../errors.js';
import type { Conn } from '../stream/conn.js';
import { dial } from '../stream/dial.js';
import type { Tracer } from '../trace.js';
import { ControlChannel } from './control-channel.js';
import {
  decodeJson,
  decodeServerError,
  decodeState,
  describeIperfErrno,
  encodeCookie,
  encodeJson,
  encodeState,
  makeCookie,
  PerfState,
  stateName,
} from './control-codec.js';
import {
  DEFAULT_TCP_BLOCK,
  DEFAULT_UDP_BLOCK,
  type PerfDirection,
  type PerfParams,
  type PerfProtocol,
  paramsToWire,
} from './params.js';
import { cpuPercent, type PerfStream, type StreamCounts, streamId, streamResult } from './perf-stream.js';
import { type Responsiveness, ResponsivenessProbe, summarizeRtts } from './responsiveness.js';
import { type PerfResults, resultsFromWire, resultsToWire } from './results.js';
import { StreamThread, ThreadStream } from './stream-thread.js';
import { TcpReceiver, TcpSender, writeAll } from './tcp-stream.js';
import { isConnectReply, UDP_CONNECT_MESSAGE } from './udp-header.js';
import { UDP_RECEIVE_BUFFER, UdpReceiver, UdpSender } from './udp-stream.js';

/** HELLO_RETRY is how long a UDP stream waits for the server's answer before saying hello again. */
const HELLO_RETRY = 250;

/** SOCKKIT_PERF_VERSION is what a sockkit client announces in its parameters. */
export const SOCKKIT_PERF_VERSION = '1';

/** PerfClientOptions describe one test. Every field is optional. */
export interface PerfClientOptions {
  /** Default 'tcp'. */
  readonly protocol?: PerfProtocol | undefined;
  /** Seconds measured; default 10. */
  readonly duration?: number | undefined;
  /** Warm-up seconds not counted; default 0. */
  readonly omit?: number | undefined;
  /** Streams per direction; default 1. */
  readonly parallel?: number | undefined;
  /** Default 'forward' (the client sends). */
  readonly direction?: PerfDirection | undefined;
  /** Bytes per write or datagram; default 128 KiB (TCP) or 1460 (UDP). */
  readonly blockLength?: number | undefined;
  /** Bits per second per stream; default unlimited for TCP, 1 Mbit/s for UDP (iperf3's defaults). */
  readonly bitrate?: number | undefined;
  /** Seconds between interval reports; 0 for none. Default 1. */
  readonly interval?: number | undefined;
  /** UDP: 64-bit sequence numbers. */
  readonly udpCounters64bit?: boolean | undefined;
  /** Ask the server for its own report. */
  readonly getServerOutput?: boolean | undefined;
  /** Measure responsiveness when the server is a sockkit server; default true. */
  readonly responsiveness?: boolean | undefined;
  /**
   * Worker threads to spread the TCP streams over (stream i runs in thread i mod N), so one
   * client can use more than one core. Default 1: every stream on this thread.
   */
  readonly threads?: number | undefined;
  /** The bound on each step outside the measured time (connect, stream setup, results), ms. Default 10 000. */
  readonly timeout?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** onStart is called once the streams are connected, just before the measured time. */
  readonly onStart?: ((start: PerfStart) => void) | undefined;
  /** onInterval is called at the end of each interval, as the test runs. */
  readonly onInterval?: ((interval: PerfInterval) => void) | undefined;
}

/** PerfStreamInfo names one stream's sockets. */
export interface PerfStreamInfo {
  readonly id: number;
  /** True when the client sends on it. */
  readonly sender: boolean;
  readonly localHost: string;
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
}

/** PerfStart describes a test about to run. */
export interface PerfStart {
  readonly url: string;
  readonly cookie: string;
  readonly params: PerfParams;
  readonly streams: readonly PerfStreamInfo[];
  /** True when the server is a sockkit perf server (it answered the extension). */
  readonly sockkitServer: boolean;
  /** Unix time in seconds. */
  readonly timestamp: number;
}

/** IntervalStream is one stream's figures over one interval. */
export interface IntervalStream extends StreamCounts {
  readonly id: number;
  readonly sender: boolean;
}

/** PerfInterval is one interval's figures, as the client saw them. */
export interface PerfInterval {
  /** Seconds since the start of the test (the warm-up included). */
  readonly start: number;
  readonly end: number;
  /** True for an interval inside the warm-up (`omit`). */
  readonly omitted: boolean;
  readonly streams: readonly IntervalStream[];
}

/** PerfStreamReport is one stream's final figures from both ends. */
export interface PerfStreamReport {
  readonly id: number;
  readonly sender: boolean;
  /** The sending end's counts (bytes, packets). */
  readonly sent: StreamCounts;
  /** The receiving end's counts (bytes, loss, reordering, jitter). */
  readonly received: StreamCounts;
}

/** PerfReport is the outcome of a test. */
export interface PerfReport {
  readonly start: PerfStart;
  readonly intervals: readonly PerfInterval[];
  readonly streams: readonly PerfStreamReport[];
  /** Seconds measured by the client and by the server. */
  readonly seconds: number;
  readonly serverSeconds: number;
  readonly cpu: { readonly total: number; readonly user: number; readonly system: number };
  readonly remoteCpu: { readonly total: number; readonly user: number; readonly system: number };
  /** Present when the server is a sockkit server and responsiveness was measured. */
  readonly responsiveness?: Responsiveness | undefined;
  readonly serverOutput?: string | undefined;
  /**
   * True when the signal stopped the test while it ran: the figures are this side's up to then
   * (`seconds` of the planned duration), the server was told (client-terminate, as iperf3's
   * client does on Ctrl-C), and its figures were not exchanged: the other side of each stream
   * counts zero, as iperf3 prints it, and `remoteCpu` is zero.
   */
  readonly partial?: boolean | undefined;
}

/**
 * perfClient runs one test against the server at `address` (tcp://host:port) and resolves with
 * its report. Rejects with ConnectionRefusedError (nobody listens, or the server is busy with
 * another test), ProtocolError (the server broke the protocol, or refused an option: the message
 * says which), TimeoutError (a step took longer than `timeout`), or AbortError when the signal
 * fires before the measured time. A signal during the measured time ends it early instead: the
 * report is marked `partial`.
 */
export async function perfClient(address: InetAddress, options: PerfClientOptions = {}): Promise<PerfReport> {
  const run = new ClientRun(address, options);
  try {
    return await run.run();
  } finally {
    run.close();
  }
}

class ClientRun {
  readonly #address: InetAddress;
  readonly #options: PerfClientOptions;
  readonly #params: PerfParams;
  readonly #url: string;
  readonly #timeout: number;
  readonly #cookie = makeCookie();
  #control: ControlChannel | undefined;
  readonly #streams: PerfStream[] = [];
  readonly #infos: PerfStreamInfo[] = [];
  readonly #closers: (() => void)[] = [];
  #probe: ResponsivenessProbe | undefined;
  /** True while the streams run: the signal then ends the measurement, not the run. */
  #measuring = false;
  #idleRtts: number[] = [];
  readonly #threads: StreamThread[] = [];

  constructor(address: InetAddress, options: PerfClientOptions) {
    this.#address = address;
    this.#options = options;
    this.#url = formatAddress(address);
    this.#timeout = options.timeout ?? 10_000;
    const protocol = options.protocol ?? 'tcp';
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new RangeError('threads must be a whole number from 1 to 256');
    }
    if (threads > 1 && protocol !== 'tcp') throw new UsageError('perf', 'threads apply to TCP streams only');
    this.#params = {
      protocol,
      duration: options.duration ?? 10,
      omit: options.omit ?? 0,
      parallel: options.parallel ?? 1,
      direction: options.direction ?? 'forward',
      blockLength: options.blockLength ?? (protocol === 'udp' ? DEFAULT_UDP_BLOCK : DEFAULT_TCP_BLOCK),
      bitrate: options.bitrate ?? (protocol === 'udp' ? 1_000_000 : 0),
      udpCounters64bit: options.udpCounters64bit ?? false,
      getServerOutput: options.getServerOutput ?? false,
      clientVersion: '3.12',
      sockkit: options.responsiveness === false ? undefined : SOCKKIT_PERF_VERSION,
    };
  }

  async run(): Promise<PerfReport> {
    const { signal, trace } = this.#options;
    const conn = await dial(this.#address, { signal, trace, timeout: this.#timeout });
    const control = new ControlChannel(conn, 'perf');
    this.#control = control;
    const onAbort = (): void => {
      if (!this.#measuring) conn.close();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#converse(control);
    } catch (err) {
      if (signal?.aborted) throw new AbortError('perf', this.#url);
      throw isSockkitError(err) ? err : fromSystemError('perf', this.#url, err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    for (const thread of this.#threads) void thread.terminate();
    this.#probe?.close();
    for (const stream of this.#streams) stream.close();
    for (const close of this.#closers) close();
    this.#control?.close();
  }

  async #converse(control: ControlChannel): Promise<PerfReport> {
    const params = this.#params;
    control.write(encodeCookie(this.#cookie));
    let sockkitServer = false;
    await this.#expect(control, PerfState.PARAM_EXCHANGE);
    control.write(encodeJson(paramsToWire(params)));
    let state = await this.#nextState(control);
    if (state === PerfState.EXTENSIONS) {
      sockkitServer = true;
      state = await this.#nextState(control);
    }
    this.#must(state, PerfState.CREATE_STREAMS);
    if (sockkitServer) await this.#openProbe();
    await this.#openStreams();
    await this.#expect(control, PerfState.TEST_START);
    await this.#expect(control, PerfState.TEST_RUNNING);

    const start: PerfStart = {
      url: this.#url,
      cookie: this.#cookie,
      params,
      streams: this.#infos,
      sockkitServer,
      timestamp: Math.floor(Date.now() / 1000),
    };
    this.#options.onStart?.(start);
    const measured = await this.#measure(control);
    if (this.#options.signal?.aborted) return this.#partial(control, start, measured);

    control.write(encodeState(PerfState.TEST_END));
    await this.#expect(control, PerfState.EXCHANGE_RESULTS);
    const ours: PerfResults = {
      cpuUtilTotal: measured.cpu.total,
      cpuUtilUser: measured.cpu.user,
      cpuUtilSystem: measured.cpu.system,
      senderHasRetransmits: params.direction === 'reverse' ? -1 : 0,
      streams: this.#streams.map((s) => streamResult(s, measured.seconds)),
    };
    control.write(encodeJson(resultsToWire(ours)));
    const theirs = resultsFromWire(await control.read(decodeJson, this.#timeout, 'results'));
    await this.#expect(control, PerfState.DISPLAY_RESULTS);
    for (const stream of this.#streams) stream.close();
    for (const thread of this.#threads) await thread.terminate();
    control.write(encodeState(PerfState.IPERF_DONE));

    const byId = new Map(theirs.streams.map((s) => [s.id, s]));
    const streams = this.#streams.map((stream): PerfStreamReport => {
      const mine = measured.counts.get(stream.id) as StreamCounts;
      const peer = byId.get(stream.id);
      const theirCounts: StreamCounts = {
        bytes: peer?.bytes ?? 0,
        packets: peer?.packets ?? 0,
        lost: peer?.errors ?? 0,
        outOfOrder: peer?.outOfOrder ?? 0,
        jitter: peer?.jitter ?? 0,
      };
      return {
        id: stream.id,
        sender: stream.sender,
        sent: stream.sender ? mine : theirCounts,
        received: stream.sender ? theirCounts : mine,
      };
    });
    const serverSeconds = Math.max(0, ...theirs.streams.map((s) => s.endTime - s.startTime));
    return {
      start,
      intervals: measured.intervals,
      streams,
      seconds: measured.seconds,
      serverSeconds,
      cpu: measured.cpu,
      remoteCpu: { total: theirs.cpuUtilTotal, user: theirs.cpuUtilUser, system: theirs.cpuUtilSystem },
      responsiveness: measured.responsiveness,
      serverOutput: theirs.serverOutputText,
    };
  }

  /**
   * #partial ends a test the signal stopped while it ran, as iperf3's client does on Ctrl-C: the
   * server is told (client-terminate) and the report holds this side's figures only.
   */
  #partial(control: ControlChannel, start: PerfStart, measured: Measured): PerfReport {
    control.write(encodeState(PerfState.CLIENT_TERMINATE));
    const unknown: StreamCounts = { bytes: 0, packets: 0, lost: 0, outOfOrder: 0, jitter: 0 };
    const streams = this.#streams.map((stream): PerfStreamReport => {
      const mine = measured.counts.get(stream.id) as StreamCounts;
      return {
        id: stream.id,
        sender: stream.sender,
        sent: stream.sender ? mine : unknown,
        received: stream.sender ? unknown : mine,
      };
    });
    return {
      start,
      intervals: measured.intervals,
      streams,
      seconds: measured.seconds,
      serverSeconds: 0,
      cpu: measured.cpu,
      remoteCpu: { total: 0, user: 0, system: 0 },
      responsiveness: measured.responsiveness,
      partial: true,
    };
  }

  /**
   * #measure runs the streams for omit + duration seconds, or until the signal, reporting
   * intervals, and snapshots the counts.
   */
  async #measure(control: ControlChannel): Promise<Measured> {
    const params = this.#params;
    const intervals: PerfInterval[] = [];
    const testStart = performance.now();
    let measuredStart = testStart;
    let cpuSince = process.cpuUsage();
    let previous = new Map<number, StreamCounts>();
    let intervalStart = 0;
    const snapshot = (omitted: boolean): void => {
      const now = (performance.now() - testStart) / 1000;
      const streams = this.#streams.map((stream) => {
        const counts = stream.counts();
        const before = previous.get(stream.id);
        previous.set(stream.id, counts);
        return {
          id: stream.id,
          sender: stream.sender,
          bytes: counts.bytes - (before?.bytes ?? 0),
          packets: counts.packets - (before?.packets ?? 0),
          lost: counts.lost - (before?.lost ?? 0),
          outOfOrder: counts.outOfOrder - (before?.outOfOrder ?? 0),
          jitter: counts.jitter,
        };
      });
      const interval = { start: intervalStart, end: now, omitted, streams };
      intervalStart = now;
      if (now - interval.start < 0.001) return;
      intervals.push(interval);
      this.#options.onInterval?.(interval);
    };
    this.#each('start');
    this.#probe?.startLoaded();
    const total = (params.omit + params.duration) * 1000;
    const every = (this.#options.interval ?? 1) * 1000;
    let omitting = params.omit > 0;
    const timers: NodeJS.Timeout[] = [];
    const { signal } = this.#options;
    let onAbort: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      timers.push(setTimeout(resolve, total));
      onAbort = () => resolve();
      if (signal?.aborted) resolve();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.#measuring = true;
    if (omitting) {
      timers.push(
        setTimeout(() => {
          if (every > 0 && this.#threads.length === 0) snapshot(true);
          this.#each('reset');
          previous = new Map();
          omitting = false;
          measuredStart = performance.now();
          cpuSince = process.cpuUsage();
        }, params.omit * 1000),
      );
    }
    let ticker: NodeJS.Timeout | undefined;
    if (every > 0) {
      ticker = setInterval(() => {
        const omitted = omitting;
        if (this.#threads.length === 0) snapshot(omitted);
        else
          void this.#refresh().then(
            () => snapshot(omitted),
            () => undefined,
          );
      }, every);
    }
    try {
      // The server may break off the test (SERVER_TERMINATE, an error): that ends it early.
      await Promise.race([done, control.read(decodeState).then((state) => this.#unexpected(state, control))]);
    } finally {
      this.#measuring = false;
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      control.cancelRead();
      for (const timer of timers) clearTimeout(timer);
      clearInterval(ticker);
    }
    this.#each('stop', (stream) => stream.sender);
    const seconds = (performance.now() - measuredStart) / 1000;
    await this.#refresh();
    if (every > 0) snapshot(false);
    const counts = new Map(this.#streams.map((s) => [s.id, s.counts()]));
    this.#each('stop', (stream) => !stream.sender);
    const loaded = this.#probe?.stopLoaded();
    const responsiveness =
      this.#probe && loaded
        ? { idle: summarizeRtts(this.#idleRtts), loaded: summarizeRtts(loaded) }
        : undefined;
    return { seconds, counts, intervals, cpu: cpuPercent(cpuSince, seconds), responsiveness };
  }

  /** #each tells every stream to start, stop or reset: local ones directly, threads with one message. */
  #each(op: 'start' | 'stop' | 'reset', which: (stream: PerfStream) => boolean = () => true): void {
    for (const stream of this.#streams) if (!(stream instanceof ThreadStream) && which(stream)) stream[op]();
    for (const thread of this.#threads) thread.tell(op);
  }

  /** #refresh brings the counters of streams in threads up to date. */
  async #refresh(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.refresh()));
  }

  async #openProbe(): Promise<void> {
    const { signal, trace } = this.#options;
    const conn = await dial(this.#address, { signal, trace, timeout: this.#timeout });
    this.#closers.push(() => conn.close());
    await writeAll(conn.socket, encodeCookie(this.#cookie, true), this.#url);
    const probe = new ResponsivenessProbe(conn, this.#url);
    this.#probe = probe;
    try {
      this.#idleRtts = await probe.measureIdle(10);
    } catch {
      // A server that does not echo after all: no responsiveness figures, the test goes on.
      probe.close();
      this.#probe = undefined;
    }
  }

  async #openStreams(): Promise<void> {
    const params = this.#params;
    const count = params.parallel * (params.direction === 'bidir' ? 2 : 1);
    const threads = Math.min(this.#options.threads ?? 1, count);
    if (params.protocol === 'tcp' && threads > 1) {
      for (let i = 0; i < threads; i++) this.#threads.push(new StreamThread());
    }
    for (let index = 0; index < count; index++) {
      const id = streamId(index);
      const sender =
        params.direction === 'forward' || (params.direction === 'bidir' && index < params.parallel);
      if (params.protocol === 'udp') await this.#openUdp(id, sender);
      else if (threads > 1) await this.#openInThread(id, sender, index % threads);
      else await this.#openTcp(id, sender);
    }
  }

  async #openInThread(id: number, sender: boolean, thread: number): Promise<void> {
    const params = this.#params;
    const { stream, opened } = await (this.#threads[thread] as StreamThread).open({
      id,
      sender,
      address: this.#address,
      cookie: this.#cookie,
      blockLength: params.blockLength,
      bitrate: params.bitrate,
      timeout: this.#timeout,
    });
    this.#streams.push(stream);
    this.#infos.push({ id, sender, ...opened });
  }

  async #openTcp(id: number, sender: boolean): Promise<void> {
    const params = this.#params;
    const { signal, trace } = this.#options;
    const conn = await dial(this.#address, { signal, trace, timeout: this.#timeout });
    this.#closers.push(() => conn.close());
    // The stream's reader must be in place before anything can arrive, so it comes first.
    const stream = sender
      ? new TcpSender(id, conn, params.blockLength, params.bitrate)
      : new TcpReceiver(id, conn);
    this.#streams.push(stream);
    this.#infos.push(infoOf(id, sender, conn));
    await writeAll(conn.socket, encodeCookie(this.#cookie), this.#url);
  }

  async #openUdp(id: number, sender: boolean): Promise<void> {
    const params = this.#params;
    const { signal, trace } = this.#options;
    const udp: InetAddress = { ...this.#address, scheme: 'udp' };
    const conn: PacketConn = await dialPacket(udp, {
      signal,
      trace,
      sendQueueLimit: 64,
      receiveBufferSize: UDP_RECEIVE_BUFFER,
    });
    this.#closers.push(() => void conn.close());
    await this.#udpHello(conn, formatAddress(udp));
    let stream: UdpSender | UdpReceiver;
    if (sender) {
      stream = new UdpSender(
        id,
        (datagram) => {
          const dropped = conn.dropped;
          conn.write(datagram);
          return conn.dropped === dropped;
        },
        () => conn.socket.getSendQueueCount(),
        params.blockLength,
        params.bitrate,
        params.udpCounters64bit,
      );
      conn.onMessage(() => {});
    } else {
      const receiver = new UdpReceiver(id, params.udpCounters64bit);
      conn.onMessage((data) => receiver.receive(data));
      stream = receiver;
    }
    this.#streams.push(stream);
    const local = conn.localAddress;
    this.#infos.push({
      id,
      sender,
      localHost: local.host,
      localPort: local.port,
      remoteHost: conn.remoteAddress?.host ?? this.#address.host,
      remotePort: conn.remoteAddress?.port ?? this.#address.port,
    });
  }

  /**
   * #udpHello sends the stream's hello and waits for the server's answer, sending it again every
   * HELLO_RETRY ms (a datagram may be lost, as newer iperf3 clients also allow for), up to the
   * step's timeout.
   */
  async #udpHello(conn: PacketConn, url: string): Promise<void> {
    const deadline = performance.now() + this.#timeout;
    for (;;) {
      conn.write(UDP_CONNECT_MESSAGE);
      const left = deadline - performance.now();
      if (left <= 0) throw new NoReplyError('perf', url, 'the server did not answer a UDP stream');
      const reply = await conn
        .read(Math.min(HELLO_RETRY, left), this.#options.signal)
        .catch((err: unknown) => {
          throw isSockkitError(err) ? err : fromSystemError('perf', url, err);
        });
      if (!reply) continue;
      if (reply.data.length === 4 || isConnectReply(reply.data)) return;
      throw new ProtocolError('perf', url, 'the server answered a UDP stream with something else');
    }
  }

  async #nextState(control: ControlChannel): Promise<number> {
    const state = await control.read(decodeState, this.#timeout, 'reply from the server');
    if (state === PerfState.ACCESS_DENIED) {
      throw new ConnectionRefusedError(
        'perf',
        this.#url,
        'the server is busy running a test (access denied)',
      );
    }
    if (state === PerfState.SERVER_ERROR) {
      const error = await control.read(decodeServerError, this.#timeout);
      throw new ProtocolError('perf', this.#url, describeIperfErrno(error.iperfErrno));
    }
    if (state === PerfState.SERVER_TERMINATE) {
      throw new ProtocolError('perf', this.#url, 'the server ended the test (server-terminate)');
    }
    return state;
  }

  async #expect(control: ControlChannel, wanted: number): Promise<void> {
    this.#must(await this.#nextState(control), wanted);
  }

  #must(state: number, wanted: number): void {
    if (state !== wanted) {
      throw new ProtocolError(
        'perf',
        this.#url,
        `expected ${stateName(wanted)}, the server sent ${stateName(state)}`,
      );
    }
  }

  async #unexpected(state: number, control: ControlChannel): Promise<never> {
    if (state === PerfState.SERVER_ERROR) {
      const error = await control.read(decodeServerError, this.#timeout);
      throw new ProtocolError('perf', this.#url, describeIperfErrno(error.iperfErrno));
    }
    if (state === PerfState.SERVER_TERMINATE) {
      throw new ProtocolError('perf', this.#url, 'the server ended the test (server-terminate)');
    }
    throw new ProtocolError('perf', this.#url, `the server sent ${stateName(state)} during the test`);
  }
}

/** Measured is what #measure saw: the measured seconds, each stream's counts, the intervals, the CPU. */
interface Measured {
  seconds: number;
  counts: Map<number, StreamCounts>;
  intervals: PerfInterval[];
  cpu: { total: number; user: number; system: number };
  responsiveness: Responsiveness | undefined;
}

function infoOf(id: number, sender: boolean, conn: Conn): PerfStreamInfo {
  const local = conn.localAddress as InetAddress;
  const remote = conn.remoteAddress as InetAddress;
  return {
    id,
    sender,
    localHost: local.host,
    localPort: local.port,
    remoteHost: remote.host,
    remotePort: remote.port,
  };
}
