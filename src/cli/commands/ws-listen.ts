/**
 * `listen ws://...`: a WebSocket server for a person or a script. Without --keep-open it takes one
 * client: its messages go to stdout, stdin's lines go to it. With --keep-open it takes any number:
 * every client's messages go to stdout, and each stdin line goes to every client, at the pace of
 * the slowest (memory stays bounded: see WebSocketConn).
 */
import type { Command } from 'commander';
import {
  AbortError,
  formatAddress,
  listenWebSocket,
  type WebSocketAddress,
  type WebSocketConn,
} from '../../index.js';
import { announceListening, tracerFor } from '../options/common.js';
import { guardFor, type LimitFlags, limitReporter } from '../options/limits.js';
import { type TlsServerFlags, tlsServerOptionsOf } from '../options/tls.js';
import { type WebSocketServerFlags, webSocketServerOptionsOf } from '../options/websocket.js';
import { shutdownSignal } from '../run.js';
import { endingOf, type MessageSource, messagesOf, printMessages } from './ws-relay.js';

interface WebSocketListenFlags extends WebSocketServerFlags, TlsServerFlags, LimitFlags {
  keepOpen?: boolean;
  binary?: boolean;
}

/** addWebSocketListenFlags adds `listen`'s ws:// flag: `--binary`. */
export function addWebSocketListenFlags(command: Command): Command {
  return command.option(
    '--binary',
    'ws://: send each stdin chunk as one binary message, not each line as text',
  );
}

/**
 * listenWebSocketCli (the flags are `command`'s) serves `address` until its one client leaves
 * (without --keep-open) or SIGINT, SIGTERM or SIGHUP, which close every client with 1001.
 * Without --keep-open, a client that drops without a close frame, or closes with an error code,
 * fails the command.
 */
export async function listenWebSocketCli(address: WebSocketAddress, command: Command): Promise<void> {
  const flags = command.opts<WebSocketListenFlags>();
  const report = limitReporter(command);
  const ws = webSocketServerOptionsOf(flags, [address], report);
  const tls = await tlsServerOptionsOf(flags, [address]);
  const signal = shutdownSignal();
  const listener = await listenWebSocket(address, {
    signal,
    trace: tracerFor(command, 'server'),
    tls,
    guard: guardFor(flags, command),
    ws,
  });
  announceListening(listener.addresses);
  const input = messagesOf(process.stdin, flags.binary === true);
  const goingAway = (conn: WebSocketConn): void => {
    const onAbort = (): void => void conn.close(1001, 'server shutting down');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void conn.closed.then(() => signal.removeEventListener('abort', onAbort));
  };
  if (!flags.keepOpen) {
    let conn: WebSocketConn;
    try {
      conn = await listener.accept();
    } catch (err) {
      if (err instanceof AbortError) return;
      throw err;
    }
    await listener.close();
    goingAway(conn);
    const printing = printMessages(conn);
    void sendAll(input, async () => [conn], flags.binary === true);
    await printing;
    await conn.closed;
    const ending = signal.aborted ? undefined : endingOf(conn, 'listen', formatAddress(address));
    if (ending) throw ending;
    return;
  }
  const clients = new Set<WebSocketConn>();
  let arrived: (() => void) | undefined;
  listener.handle((conn) => {
    clients.add(conn);
    arrived?.();
    goingAway(conn);
    void printMessages(conn).then(() => clients.delete(conn));
  });
  // Until a client is there, stdin waits: a line read then would go to nobody.
  const someone = async (): Promise<WebSocketConn[]> => {
    while (clients.size === 0) await new Promise<void>((resolve) => (arrived = resolve));
    return [...clients];
  };
  void sendAll(input, someone, flags.binary === true);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await listener.close();
  await Promise.all([...clients].map((c) => c.closed));
}

/**
 * sendAll sends each stdin message to every client `to` resolves with, waiting for the slowest before
 * reading the next (a client that leaves no longer holds the others back). Stdin's end sends nothing:
 * the clients decide when to leave.
 */
async function sendAll(
  input: MessageSource,
  to: () => Promise<WebSocketConn[]>,
  binary: boolean,
): Promise<void> {
  for (;;) {
    await to(); // read stdin only once someone is there to send it to
    const message = await input.peek();
    if (message === undefined) return;
    const clients = await to(); // every client there now, not only when the wait began
    await Promise.all(clients.map((conn) => conn.send(message, { binary }).catch(() => {})));
    input.consume();
  }
}
