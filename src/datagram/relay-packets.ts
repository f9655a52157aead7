/**
 * relayPackets is netcat's UDP relay (`nc -u`, `nc -u -l`): a byte stream cut into datagrams one
 * way, datagrams written out as bytes the other way.
 */
import type { Readable, Writable } from 'node:stream';
import { formatHostPort } from '../address.js';
import { fromSystemError, type SockkitError } from '../errors.js';
import { traceStep } from '../internal.js';
import { MiB } from '../units.js';
import { maxDatagramSize } from './limits.js';
import type { Datagram, PacketConn, Peer } from './packet-conn.js';
import { DatagramSplitter } from './splitter.js';

/** DEFAULT_OUTPUT_LIMIT is how many bytes may wait for a slow output before datagrams are dropped. */
export const DEFAULT_OUTPUT_LIMIT = 16 * MiB;

/** PacketRelayEvent is a step of `relayPackets` worth telling a person about. */
export type PacketRelayEvent =
  | {
      /** A datagram from a peer other than the first was ignored (`peers: 'first'`). */
      readonly type: 'ignored';
      readonly peer: Peer;
    }
  | {
      /** The first datagram dropped because `output` is not keeping up; later drops are only counted. */
      readonly type: 'output-full';
      /** The bytes waiting on `output` past which datagrams are dropped. */
      readonly limit: number;
    };

/** PacketRelayOptions tune `relayPackets`. */
export interface PacketRelayOptions {
  /** Aborting it stops the relay: the sockets are closed and the summary resolved. */
  readonly signal?: AbortSignal | undefined;
  /** Send each line of `input` (its `\n` included) as one datagram. Default: each chunk read. */
  readonly lines?: boolean | undefined;
  /**
   * On sockets that are not connected, whose datagrams are taken: `first` (the default, as
   * `nc -u -l`) takes only the first peer heard from, and ignores the others; `latest` takes
   * every peer's, and input goes to the peer heard from last.
   */
  readonly peers?: 'first' | 'latest' | undefined;
  /**
   * After `input` ends, stop once no datagram has arrived for this long, in milliseconds.
   * Default: keep relaying until the signal (or until a connected socket is closed).
   */
  readonly linger?: number | undefined;
  /** Bytes waiting on a slow `output` past which datagrams are dropped. Default 16 MiB. */
  readonly outputLimit?: number | undefined;
  /** onEvent is told of ignored peers and of the first drop for a slow output. It must not throw. */
  readonly onEvent?: ((event: PacketRelayEvent) => void) | undefined;
}

/** PacketRelaySummary counts what `relayPackets` did. */
export interface PacketRelaySummary {
  /** Datagrams written to output, and their bytes. */
  readonly datagramsReceived: number;
  readonly bytesReceived: number;
  /** Datagrams sent from input, and their bytes. */
  readonly datagramsSent: number;
  readonly bytesSent: number;
  /** Datagrams ignored because they came from a peer other than the first (`peers: 'first'`). */
  readonly ignored: number;
  /** Datagrams dropped because output was not keeping up (past `outputLimit`). */
  readonly dropped: number;
}

/**
 * relayPackets relays between datagram sockets and a byte stream: `input`, cut into datagrams
 * (each chunk, or each line; anything larger than a datagram is split at the limit, never
 * truncated), is sent to the peer, and each datagram received is written to `output`.
 *
 * On a connected socket (`dialPacket`) the peer is the connected one, and input is read at once.
 * On bound sockets (`listenPackets`: one or several) the peer is the one heard from (see
 * `options.peers`), and input is not read until a peer has been heard from: until then there is
 * nobody to send to. Input is read one chunk at a time, each sent before the next is read.
 *
 * UDP cannot be paused, so a slow `output` is not waited for: past `outputLimit` bytes waiting on
 * it, datagrams are dropped and counted, as a kernel drops what overflows its buffer.
 *
 * It runs until the signal aborts, `output` fails (its reader went away), a connected socket is
 * closed, or, once `input` has ended, `linger` has passed since the last datagram. It then closes
 * the sockets and resolves with a summary. It rejects, after closing them, with the socket's
 * error (`receive udp://…: connection refused` when a connected peer's host answered ICMP port
 * unreachable), a send's error, or `input`'s. It leaves `input` paused and no listener behind.
 */
export function relayPackets(
  sockets: PacketConn | readonly PacketConn[],
  input: Readable,
  output: Writable,
  options: PacketRelayOptions = {},
): Promise<PacketRelaySummary> {
  const conns: readonly PacketConn[] = Array.isArray(sockets) ? sockets : [sockets as PacketConn];
  if (conns.length === 0) throw new TypeError('relayPackets needs at least one PacketConn');
  const connected = conns.length === 1 && conns[0]?.remoteAddress !== undefined;
  const peers = options.peers ?? 'first';
  const outputLimit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
  const tell = options.onEvent ?? ignore;
  const summary = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    bytesSent: 0,
    ignored: 0,
    dropped: 0,
  };
  let target: { conn: PacketConn; peer: Peer | undefined } | undefined = connected
    ? { conn: conns[0] as PacketConn, peer: undefined }
    : undefined;
  let splitter: DatagramSplitter | undefined;
  let sending: Promise<void> = Promise.resolve();
  let inputEnded = false;
  let stopped = false;
  let idle: NodeJS.Timeout | undefined;

  return new Promise<PacketRelaySummary>((resolve, reject) => {
    const stop = (err?: SockkitError): void => {
      if (stopped) return;
      stopped = true;
      clearTimeout(idle);
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onInputError);
      input.pause();
      output.off('error', onOutputGone);
      options.signal?.removeEventListener('abort', onAbort);
      void Promise.all(conns.map((c) => c.close())).then(() => (err ? reject(err) : resolve(summary)));
    };
    const fail = (err: unknown): void => stop(fromSystemError('send', '', err));
    const lingerThenStop = (): void => {
      if (options.linger === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => stop(), options.linger);
    };
    const sendAll = async (datagrams: readonly Buffer[]): Promise<void> => {
      for (const datagram of datagrams) {
        if (stopped || !target) return;
        await target.conn.send(datagram, target.peer);
        summary.datagramsSent += 1;
        summary.bytesSent += datagram.length;
      }
    };
    function onData(chunk: Buffer): void {
      input.pause();
      const datagrams = (splitter as DatagramSplitter).push(chunk);
      sending = sending
        .then(() => sendAll(datagrams))
        .then(() => {
          if (!stopped) input.resume();
        })
        .catch(fail);
    }
    function onEnd(): void {
      const datagrams = (splitter as DatagramSplitter).end();
      sending = sending
        .then(() => sendAll(datagrams))
        .then(() => {
          inputEnded = true;
          lingerThenStop();
        })
        .catch(fail);
    }
    function onInputError(err: Error): void {
      stop(fromSystemError('read', '', err));
    }
    const onOutputGone = (): void => stop();
    const onAbort = (): void => stop();
    const startInput = (): void => {
      // An IPv4 peer, or an IPv4-mapped one on a dual-stack socket, travels in an IPv4 packet.
      const host = target?.peer?.address ?? target?.conn.remoteAddress?.host ?? '';
      splitter = new DatagramSplitter(maxDatagramSize(host.includes('.') ? 4 : 6), options.lines);
      input.on('data', onData);
      input.once('end', onEnd);
      input.resume();
    };
    const receive = (conn: PacketConn, { data, peer }: Datagram): void => {
      if (!connected) {
        if (peers === 'first' && target?.peer && !samePeer(target.peer, peer)) {
          summary.ignored += 1;
          conn[traceStep]('note', {
            detail: `ignored datagram from ${formatHostPort(peer.address, peer.port)} (not the first peer)`,
          });
          tell({ type: 'ignored', peer });
          return;
        }
        const first = target === undefined;
        if (first || peers === 'latest') target = { conn, peer };
        if (first) startInput();
      }
      if (output.writableLength > outputLimit) {
        if (summary.dropped === 0) tell({ type: 'output-full', limit: outputLimit });
        summary.dropped += 1;
      } else {
        output.write(data);
        summary.datagramsReceived += 1;
        summary.bytesReceived += data.length;
      }
      if (inputEnded) lingerThenStop();
    };
    const readFrom = async (conn: PacketConn): Promise<void> => {
      for (;;) {
        let datagram: Datagram | undefined;
        try {
          datagram = await conn.read();
        } catch (err) {
          stop(err as SockkitError);
          return;
        }
        if (stopped) return;
        if (!datagram) {
          // A connected socket closed by its owner ends the relay; a server's stop is the signal's.
          if (connected) stop();
          return;
        }
        receive(conn, datagram);
      }
    };

    input.once('error', onInputError);
    output.once('error', onOutputGone);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) return stop();
    for (const conn of conns) void readFrom(conn);
    if (connected) startInput();
  });
}

function samePeer(a: Peer, b: Peer): boolean {
  return a.address === b.address && a.port === b.port;
}

function ignore(): void {}
