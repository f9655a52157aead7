/**
 * fanOut is netcat's `--keep-open` relay: many clients at once, what each sends goes to one
 * output, and one input goes to every client.
 */
import type { Readable, Writable } from 'node:stream';
import { traceStep } from '../internal.js';
import type { Conn } from './conn.js';
import type { Listener } from './listen.js';
import { aborted } from './serve.js';

/** FanOutEvent is a step of `fanOut` worth telling: input waits for a client, or goes on. */
export type FanOutEvent =
  | {
      /** A client's buffer is full: input is paused until it reads (or leaves). */
      readonly type: 'input-paused';
      readonly conn: Conn;
    }
  | {
      /** The last client input waited for has read or left: input flows again. */
      readonly type: 'input-resumed';
      readonly conn: Conn;
    };

/** FanOutOptions tune `fanOut`. */
export interface FanOutOptions {
  /** Aborting it stops: input is paused and every client is closed. */
  readonly signal: AbortSignal;
  /**
   * What trace lines call the input (`stdin paused until this client reads`). Default `input`.
   */
  readonly inputName?: string | undefined;
  /** onEvent is told when input pauses for a client and when it flows again. It must not throw. */
  readonly onEvent?: ((event: FanOutEvent) => void) | undefined;
}

/** FanOutSummary counts what `fanOut` did. */
export interface FanOutSummary {
  /** Clients accepted. */
  readonly clients: number;
  /** Bytes received from every client, all written to output. */
  readonly bytesReceived: number;
  /** Bytes of input handed to the clients' sockets (each client's copy counts). */
  readonly bytesSent: number;
}

/**
 * fanOut relays every client `listener` accepts: what each sends goes to `output`, and `input`
 * goes to every client connected, until `options.signal` aborts (or `input` or `output` fails:
 * the reader of output went away, say). Both directions keep backpressure, so memory stays bounded whatever the peers do:
 * input waits for the slowest client (it is paused while any client's buffer is full), and a
 * client waits for `output` (it is paused while output's buffer is full). A client that leaves,
 * by closing or by a reset, releases what waited on it at once. The end of `input` half-closes
 * every client, and those that come later, and a client's FIN is answered with ours: the clients
 * hear end-of-file both ways. It resolves, once every client is closed, with a summary; it never
 * rejects (one client's failure closes that client only). It does not close the listener.
 */
export async function fanOut(
  listener: Listener,
  input: Readable,
  output: Writable,
  options: FanOutOptions,
): Promise<FanOutSummary> {
  const inputName = options.inputName ?? 'input';
  const tell = options.onEvent ?? ignore;
  const clients = new Set<Conn>();
  // The clients whose buffers are full: input stays paused while any is left.
  const inputWaitsFor = new Set<Conn>();
  // The clients paused for output: one 'drain' listener resumes them all.
  const waitingForOutput = new Set<Conn>();
  const summary = { clients: 0, bytesReceived: 0, bytesSent: 0 };
  let inputEnded = false;
  let stopped = false;
  let streamFailed: () => void = () => {};
  const streamGone = new Promise<void>((resolve) => {
    streamFailed = resolve;
  });
  const release = (conn: Conn): void => {
    if (!inputWaitsFor.delete(conn) || inputWaitsFor.size > 0 || stopped) return;
    conn[traceStep]('note', { detail: `${inputName} resumed` });
    tell({ type: 'input-resumed', conn });
    input.resume();
  };
  const resumeClients = (): void => {
    for (const conn of waitingForOutput) conn.resume();
    waitingForOutput.clear();
  };
  listener.handle((conn) => {
    if (stopped) {
      conn.close();
      return;
    }
    summary.clients += 1;
    clients.add(conn);
    conn.socket.once('close', () => {
      clients.delete(conn);
      waitingForOutput.delete(conn);
      summary.bytesReceived += conn.bytesReceived;
      summary.bytesSent += conn.bytesSent;
      release(conn);
    });
    if (inputEnded) void conn.closeWrite();
    conn.onData((chunk) => {
      if (output.write(chunk)) return;
      conn.pause();
      if (waitingForOutput.size === 0) output.once('drain', resumeClients);
      waitingForOutput.add(conn);
    });
    // A client's FIN ends only its direction; close ours too so it is not left half-open.
    conn.socket.once('end', () => void conn.closeWrite());
  });
  const onInput = (chunk: Buffer): void => {
    for (const conn of clients) {
      // A client whose FIN we answered with ours (or that is closing) takes no more input.
      if (!conn.socket.writable) continue;
      if (conn.write(chunk) || inputWaitsFor.has(conn)) continue;
      inputWaitsFor.add(conn);
      conn[traceStep]('note', { detail: `${inputName} paused until this client reads` });
      tell({ type: 'input-paused', conn });
      conn.socket.once('drain', () => release(conn));
    }
    if (inputWaitsFor.size > 0) input.pause();
  };
  const onInputEnd = (): void => {
    inputEnded = true;
    for (const conn of clients) void conn.closeWrite();
  };
  const onStreamError = (): void => streamFailed();
  input.on('data', onInput);
  input.once('end', onInputEnd);
  input.once('error', onStreamError);
  output.once('error', onStreamError);
  await Promise.race([aborted(options.signal), streamGone]);
  stopped = true;
  input.off('data', onInput);
  input.off('end', onInputEnd);
  input.off('error', onStreamError);
  output.off('error', onStreamError);
  output.off('drain', resumeClients);
  input.pause();
  const open = [...clients];
  for (const conn of open) conn.close();
  await Promise.all(open.map((conn) => conn.closed));
  return summary;
}

function ignore(): void {}
