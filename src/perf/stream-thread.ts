/**
 * Worker threads for the client's `threads` option: each thread opens and runs some of a test's
 * TCP streams on its own event loop (and so its own core), while the main thread keeps the
 * control connection and the timing. The main thread speaks to a thread a few times a second
 * (start, stop, counters), never per block. Errors keep their class across the boundary
 * (bench/packed-error.ts).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { InetAddress } from '../address.js';
import { type PackedError, packError, unpackError } from '../bench/packed-error.js';
import type { SockkitError } from '../errors.js';
import { dial } from '../stream/dial.js';
import { encodeCookie } from './control-codec.js';
import { EMPTY_COUNTS, type PerfStream, type StreamCounts } from './perf-stream.js';
import { TcpReceiver, TcpSender, writeAll } from './tcp-stream.js';

/** OpenStream asks a thread to open one stream. */
export interface OpenStream {
  readonly id: number;
  readonly sender: boolean;
  readonly address: InetAddress;
  readonly cookie: string;
  readonly blockLength: number;
  readonly bitrate: number;
  readonly timeout: number;
}

/** The sockets of a stream a thread opened. */
export interface OpenedStream {
  readonly localHost: string;
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
}

type Request =
  | { readonly id: number; readonly op: 'open'; readonly stream: OpenStream }
  | { readonly id: number; readonly op: 'start' | 'stop' | 'reset' | 'counts' | 'close' };

interface Reply {
  readonly id: number;
  readonly opened?: OpenedStream;
  readonly counts?: [number, StreamCounts][];
  readonly error?: PackedError;
}

/** StreamThread is one worker thread holding some of a test's streams. */
export class StreamThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #streams: ThreadStream[] = [];
  #lastId = 0;
  #lost: Error | undefined;

  constructor() {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { sockkitPerf: true } });
    this.#worker.on('message', (reply: Reply) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
    const lose = (err: Error): void => {
      this.#lost ??= err;
      for (const settle of this.#pending.values()) settle({ id: 0, error: packError(err) });
      this.#pending.clear();
    };
    this.#worker.on('error', lose);
    this.#worker.on('exit', () => lose(new Error('the stream thread exited')));
  }

  /** open opens a stream in the thread and resolves with the proxy that drives it. */
  async open(stream: OpenStream): Promise<{ stream: ThreadStream; opened: OpenedStream }> {
    const reply = await this.#ask({ id: 0, op: 'open', stream });
    const proxy = new ThreadStream(stream.id, stream.sender, this);
    this.#streams.push(proxy);
    return { stream: proxy, opened: reply.opened as OpenedStream };
  }

  /** tell sends a command for every stream of the thread (start, stop, reset, close). */
  tell(op: 'start' | 'stop' | 'reset' | 'close'): void {
    if (op === 'reset') for (const stream of this.#streams) stream.latest = EMPTY_COUNTS;
    void this.#ask({ id: 0, op }).catch(() => undefined);
  }

  /** refresh fetches the counters of every stream of the thread. */
  async refresh(): Promise<void> {
    const reply = await this.#ask({ id: 0, op: 'counts' });
    const counts = new Map(reply.counts ?? []);
    for (const stream of this.#streams) stream.latest = counts.get(stream.id) ?? stream.latest;
  }

  /** terminate ends the thread (closing its streams' sockets with it). */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  #ask(request: Request): Promise<Reply> {
    if (this.#lost) return Promise.reject(this.#lost);
    const id = ++this.#lastId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => (reply.error ? reject(unpackError(reply.error)) : resolve(reply)));
      this.#worker.postMessage({ ...request, id });
    });
  }
}

/**
 * ThreadStream stands for a stream that runs in a StreamThread. Its counts are the latest the
 * thread sent: call the thread's `refresh` before reading them.
 */
export class ThreadStream implements PerfStream {
  readonly id: number;
  readonly sender: boolean;
  readonly error: SockkitError | undefined = undefined;
  latest: StreamCounts = EMPTY_COUNTS;
  readonly thread: StreamThread;

  constructor(id: number, sender: boolean, thread: StreamThread) {
    this.id = id;
    this.sender = sender;
    this.thread = thread;
  }

  counts(): StreamCounts {
    return this.latest;
  }

  // The thread's commands act on all its streams at once; the client calls them for every stream,
  // so each is sent by the thread's first stream only (see ClientRun).
  start(): void {}
  stop(): void {}
  reset(): void {
    this.latest = EMPTY_COUNTS;
  }
  close(): void {}
}

/** The worker side: holds the streams and answers the main thread. */
function serveThread(): void {
  const port = parentPort;
  if (!port) return;
  const streams: PerfStream[] = [];
  port.on('message', async (request: Request) => {
    try {
      switch (request.op) {
        case 'open': {
          const s = request.stream;
          const conn = await dial(s.address, { timeout: s.timeout });
          const stream = s.sender
            ? new TcpSender(s.id, conn, s.blockLength, s.bitrate)
            : new TcpReceiver(s.id, conn);
          await writeAll(conn.socket, encodeCookie(s.cookie), '');
          streams.push(stream);
          const local = conn.localAddress as InetAddress;
          const remote = conn.remoteAddress as InetAddress;
          const opened: OpenedStream = {
            localHost: local.host,
            localPort: local.port,
            remoteHost: remote.host,
            remotePort: remote.port,
          };
          port.postMessage({ id: request.id, opened });
          return;
        }
        case 'counts':
          port.postMessage({ id: request.id, counts: streams.map((s) => [s.id, s.counts()]) });
          return;
        default:
          for (const stream of streams) stream[request.op]();
          port.postMessage({ id: request.id });
      }
    } catch (err) {
      port.postMessage({ id: request.id, error: packError(err) });
    }
  });
}

if (!isMainThread && (workerData as { sockkitPerf?: boolean } | null)?.sockkitPerf) serveThread();
