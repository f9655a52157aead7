/**
 * ServerTest runs one test on the server side, from the parameter exchange to IPERF_DONE, over
 * the control connection a client opened. The server (server.ts) hands it the data streams whose
 * cookie (TCP) or address (UDP) names it. Every wait is bounded, and any failure ends this test
 * only: its sockets close and the server carries on.
 */

import {
  fromSystemError,
  isSockkitError,
  ProtocolError,
  type SockkitError,
  TimeoutError,
} from '../errors.js';
import type { Conn } from '../stream/conn.js';
import type { ControlChannel } from './control-channel.js';
import {
  decodeJson,
  decodeState,
  encodeJson,
  encodeServerError,
  encodeState,
  IperfErrno,
  PerfState,
  stateName,
} from './control-codec.js';
import { type PerfParams, paramsFromWire } from './params.js';
import { cpuPercent, type PerfStream, streamId, streamResult } from './perf-stream.js';
import { type PerfResults, resultsFromWire, resultsToWire, type StreamResult } from './results.js';
import { TcpReceiver, TcpSender } from './tcp-stream.js';
import { type DatagramSink, type QueueDepth, UdpReceiver, UdpSender } from './udp-stream.js';

/** ServerTestSummary is what the server reports about one finished (or failed) test. */
export interface ServerTestSummary {
  /** The cookie the client named its test with (iperf3 -J prints it as `start.cookie`). */
  readonly cookie: string;
  /** The client's control address, `127.0.0.1:53122`. */
  readonly peer: string;
  readonly params: PerfParams | undefined;
  /** Bytes this server received and sent on the data streams (measured part only). */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Seconds measured (after the warm-up). */
  readonly seconds: number;
  /** The client's own results, when the test got that far. */
  readonly clientResults: PerfResults | undefined;
  /** Why the test did not complete, when it did not. */
  readonly error: SockkitError | undefined;
}

/** ServerTestHost is what a ServerTest needs from its server. */
export interface ServerTestHost {
  /** Bound on each step before and after the measured time, in ms. */
  readonly setupTimeout: number;
  /** claimUdpSetup waits until no other test from `ip` is opening UDP streams, then holds that place. */
  claimUdpSetup(ip: string, test: ServerTest): Promise<() => void>;
  /** finished removes the test from the server's tables and reports it. */
  finished(test: ServerTest, summary: ServerTestSummary): void;
}

/** An incoming TCP data stream, before the test has all of them. */
interface PendingTcp {
  readonly conn: Conn;
  readonly order: number;
  stream?: TcpReceiver;
}

/** An incoming UDP stream: the client's address and how to send to it. */
interface PendingUdp {
  readonly send: DatagramSink;
  readonly queued: QueueDepth;
  stream?: UdpReceiver | UdpSender;
}

/** ServerTest is one test, named by its cookie. */
export class ServerTest {
  readonly cookie: string;
  readonly control: ControlChannel;
  readonly peerIp: string;
  params: PerfParams | undefined;
  /** True while the test accepts data streams (after CREATE_STREAMS, until it has them all). */
  acceptingStreams = false;
  /** True while the test runs: a sockkit client's responsiveness probe is welcome. */
  running = false;
  readonly #host: ServerTestHost;
  readonly #tcp: PendingTcp[] = [];
  readonly #udp: PendingUdp[] = [];
  #streams: PerfStream[] = [];
  #haveAll: (() => void) | undefined;
  #closed = false;

  constructor(cookie: string, control: ControlChannel, peerIp: string, host: ServerTestHost) {
    this.cookie = cookie;
    this.control = control;
    this.peerIp = peerIp;
    this.#host = host;
  }

  get #expected(): number {
    const params = this.params as PerfParams;
    return params.parallel * (params.direction === 'bidir' ? 2 : 1);
  }

  /**
   * attachTcp takes a data connection that sent this test's cookie; `order` is its place in the
   * server's accept order, which is the order the client opened them. It returns the function
   * that takes the bytes read on it, or undefined when the test wants no more streams.
   */
  attachTcp(conn: Conn, order: number): ((chunk: Buffer) => void) | undefined {
    if (!this.acceptingStreams || this.params?.protocol !== 'tcp' || this.#tcp.length >= this.#expected) {
      return undefined;
    }
    const pending: PendingTcp = { conn, order };
    this.#tcp.push(pending);
    if (this.#tcp.length === this.#expected) this.#haveAll?.();
    return (chunk) => pending.stream?.accept(chunk);
  }

  /**
   * attachUdp takes a UDP stream whose first datagram came from this test's client while it was
   * opening streams. It returns the function that takes that address's later datagrams, or
   * undefined when the test wants no more streams.
   */
  attachUdp(send: DatagramSink, queued: QueueDepth): ((datagram: Buffer) => void) | undefined {
    if (!this.acceptingStreams || this.params?.protocol !== 'udp' || this.#udp.length >= this.#expected) {
      return undefined;
    }
    const pending: PendingUdp = { send, queued };
    this.#udp.push(pending);
    if (this.#udp.length === this.#expected) this.#haveAll?.();
    return (datagram) => {
      const stream = pending.stream;
      if (stream instanceof UdpReceiver) stream.receive(datagram);
    };
  }

  /** run drives the test to its end; it never rejects. */
  async run(): Promise<void> {
    const timeout = this.#host.setupTimeout;
    let releaseUdp: (() => void) | undefined;
    let seconds = 0;
    let clientResults: PerfResults | undefined;
    let final: StreamResult[] | undefined;
    let error: SockkitError | undefined;
    try {
      this.control.write(encodeState(PerfState.PARAM_EXCHANGE));
      const wire = await this.control.read(decodeJson, timeout, 'parameters').catch((err: unknown) => {
        throw this.#refuse(err, IperfErrno.RECEIVE_PARAMS);
      });
      const params = (() => {
        try {
          return paramsFromWire(wire);
        } catch (err) {
          throw this.#refuse(err, IperfErrno.UNIMPLEMENTED);
        }
      })();
      this.params = params;
      if (params.protocol === 'udp') releaseUdp = await this.#host.claimUdpSetup(this.peerIp, this);
      if (params.sockkit) this.control.write(encodeState(PerfState.EXTENSIONS));
      const haveAll = new Promise<void>((resolve) => {
        this.#haveAll = resolve;
      });
      this.acceptingStreams = true;
      this.control.write(encodeState(PerfState.CREATE_STREAMS));
      await this.#bounded(haveAll, timeout, 'data streams');
      this.acceptingStreams = false;
      releaseUdp?.();
      releaseUdp = undefined;
      this.#streams = this.#makeStreams(params);
      this.control.write(encodeState(PerfState.TEST_START));
      this.control.write(encodeState(PerfState.TEST_RUNNING));
      this.running = true;
      let startedAt = performance.now();
      let cpuSince = process.cpuUsage();
      for (const stream of this.#streams) stream.start();
      const omitTimer =
        params.omit > 0
          ? setTimeout(() => {
              for (const stream of this.#streams) stream.reset();
              startedAt = performance.now();
              cpuSince = process.cpuUsage();
            }, params.omit * 1000)
          : undefined;
      const bound = params.duration > 0 ? (params.duration + params.omit) * 1000 + timeout : undefined;
      const state = await this.control
        .read(decodeState, bound, 'end of test')
        .finally(() => clearTimeout(omitTimer));
      // A datagram that arrived with test-end is handed over by the native UDP path at the end of
      // this poll phase (its delivery pass runs before setImmediate callbacks): count it first.
      await new Promise((resolve) => setImmediate(resolve));
      for (const stream of this.#streams) stream.stop();
      this.running = false;
      seconds = (performance.now() - startedAt) / 1000;
      if (state !== PerfState.TEST_END) {
        throw new ProtocolError(
          'perf',
          this.control.url,
          state === PerfState.CLIENT_TERMINATE
            ? 'the client was interrupted and ended the test early (client-terminate)'
            : `the client sent ${stateName(state)} instead of test-end`,
        );
      }
      // iperf3's server closes every data stream on test-end, and iperf3 -c relies on it: it then
      // makes its receiving streams blocking and reads whole blocks until EOF before it looks at
      // the control connection again, so a stream left open with part of a block unread hangs it.
      // Ending (not destroying) sends what is still queued first: the counts stay exact.
      for (const pending of this.#tcp) void pending.conn.closeWrite();
      const cpu = cpuPercent(cpuSince, seconds);
      final = this.#streams.map((s) => streamResult(s, seconds));
      this.control.write(encodeState(PerfState.EXCHANGE_RESULTS));
      clientResults = resultsFromWire(await this.control.read(decodeJson, timeout, 'results'));
      const ours: PerfResults = {
        cpuUtilTotal: cpu.total,
        cpuUtilUser: cpu.user,
        cpuUtilSystem: cpu.system,
        senderHasRetransmits: params.direction === 'forward' ? -1 : 0,
        streams: final,
        serverOutputText: params.getServerOutput ? `${this.#line(seconds)}\n` : undefined,
      };
      this.control.write(encodeJson(resultsToWire(ours)));
      this.control.write(encodeState(PerfState.DISPLAY_RESULTS));
      // IPERF_DONE, or the client just closes: either way the test is over.
      await this.control.read(decodeState, timeout, 'iperf-done').catch(() => undefined);
    } catch (err) {
      error = isSockkitError(err) ? err : fromSystemError('perf', this.control.url, err);
    } finally {
      releaseUdp?.();
      this.close();
    }
    // The figures sent in the results, when the test got that far: both sides then print the same.
    const counted = final ?? this.#streams.map((s) => streamResult(s, seconds));
    const isSender = new Map(this.#streams.map((s) => [s.id, s.sender]));
    const bytes = (sender: boolean) =>
      counted.filter((s) => isSender.get(s.id) === sender).reduce((sum, s) => sum + s.bytes, 0);
    this.#host.finished(this, {
      cookie: this.cookie,
      peer: this.control.url.replace(/^tcp:\/\//, ''),
      params: this.params,
      bytesReceived: bytes(false),
      bytesSent: bytes(true),
      seconds,
      clientResults,
      error,
    });
  }

  /** close ends the test at once: every stream and the control connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.acceptingStreams = false;
    this.running = false;
    for (const stream of this.#streams) stream.close();
    for (const pending of this.#tcp) pending.conn.close();
    this.control.close();
  }

  #makeStreams(params: PerfParams): PerfStream[] {
    // Streams are numbered in the order the client opened them; in a bidirectional test the
    // client's sending streams come first (iperf3's order).
    const senderAt = (index: number): boolean =>
      params.direction === 'reverse' || (params.direction === 'bidir' && index >= params.parallel);
    if (params.protocol === 'tcp') {
      return this.#tcp
        .sort((a, b) => a.order - b.order)
        .map((pending, index) => {
          const id = streamId(index);
          if (senderAt(index)) return new TcpSender(id, pending.conn, params.blockLength, params.bitrate);
          pending.stream = new TcpReceiver(id, pending.conn, false);
          return pending.stream;
        });
    }
    return this.#udp.map((pending, index) => {
      const id = streamId(index);
      pending.stream = senderAt(index)
        ? new UdpSender(
            id,
            pending.send,
            pending.queued,
            params.blockLength,
            params.bitrate,
            params.udpCounters64bit,
          )
        : new UdpReceiver(id, params.udpCounters64bit);
      return pending.stream;
    });
  }

  /** #refuse tells an iperf3 client why with SERVER_ERROR, and returns the error to end the test with. */
  #refuse(err: unknown, iperfErrno: number): SockkitError {
    const error = isSockkitError(err) ? err : fromSystemError('perf', this.control.url, err);
    this.control.write(encodeServerError({ iperfErrno, errno: 0 }));
    return error;
  }

  /** #bounded waits for `work`, failing on timeout or when the control connection fails first. */
  #bounded(work: Promise<void>, timeout: number, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError('perf', this.control.url, `no ${what} within ${timeout} ms`)),
        timeout,
      );
    });
    return Promise.race([work, expiry, this.control.failed]).finally(() => clearTimeout(timer));
  }

  #line(seconds: number): string {
    const params = this.params as PerfParams;
    const received = this.#streams.filter((s) => !s.sender).reduce((sum, s) => sum + s.counts().bytes, 0);
    const sent = this.#streams.filter((s) => s.sender).reduce((sum, s) => sum + s.counts().bytes, 0);
    return `sockkit perf server: ${params.protocol} ${params.direction}, ${received} bytes received, ${sent} bytes sent in ${seconds.toFixed(2)} s`;
  }
}
