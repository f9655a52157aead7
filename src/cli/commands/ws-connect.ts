/**
 * The WebSocket client modes: `connect ws://...` (each stdin line, or chunk with --binary, is one
 * message; each message received goes to stdout, text followed by a newline), with keepalive
 * pings and `--reconnect` that sends `--preamble` again on every connection; and
 * `send ws://URL MESSAGE` (one message, print the reply, close).
 */
import { type Command, Option } from 'commander';
import {
  dialWebSocket,
  formatAddress,
  formatDuration,
  NoReplyError,
  rewrap,
  type SockkitError,
  type WebSocketAddress,
  type WebSocketConn,
  withDeadline,
} from '../../index.js';
import { tracerFor } from '../options/common.js';
import { type TlsClientFlags, tlsClientOptionsOf } from '../options/tls.js';
import { type WebSocketClientFlags, webSocketClientOptionsOf } from '../options/websocket.js';
import { warn } from '../run.js';
import { closeWords, endingOf, type MessageSource, messagesOf, print, printMessages } from './ws-relay.js';

/** WebSocketConnectFlags are the `connect` flags that matter for ws://. */
interface WebSocketConnectFlags extends WebSocketClientFlags, TlsClientFlags {
  timeout?: number;
  binary?: boolean;
  reconnect?: boolean;
  preamble?: string[];
  verbose?: boolean;
}

/** FIRST_RETRY and LAST_RETRY bound the back-off between reconnects: 500 ms, doubling, up to 30 s. */
const FIRST_RETRY = 500;
const LAST_RETRY = 30_000;
/** A connection that stayed open this long resets the back-off: the server was up, not flapping. */
const STABLE = 10_000;

/** addWebSocketConnectFlags adds `connect`'s ws:// flags: `--binary`, `--reconnect`, `--preamble` and `-v`. */
export function addWebSocketConnectFlags(command: Command): Command {
  return command
    .option('--binary', 'ws://: send each stdin chunk as one binary message, not each line as text')
    .option(
      '--reconnect',
      'ws://: when the connection drops, connect again (back-off 0.5s doubling to 30s), sending --preamble again',
    )
    .addOption(
      new Option(
        '--preamble <message>',
        'ws://: send MESSAGE first on every connection (repeatable)',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .option(
      '-v, --verbose',
      'ws/udp: say how each ws:// connection ended (close code and reason), or which datagram path a udp:// socket takes and why',
    );
}

/**
 * connectWebSocket (the flags are `command`'s) connects to `address` and relays stdin to it and
 * its messages to stdout until stdin ends (then closes with 1000 and waits for the server's close)
 * or the server closes. A close with a code other than 1000, 1001 or 1005, or a dropped
 * connection, fails the command; with `--reconnect`, it connects again instead.
 */
export async function connectWebSocket(address: WebSocketAddress, command: Command): Promise<void> {
  const flags = command.opts<WebSocketConnectFlags>();
  const url = formatAddress(address);
  const dialOptions = {
    timeout: flags.timeout,
    trace: tracerFor(command, 'client'),
    tls: tlsClientOptionsOf(flags, address),
    ws: webSocketClientOptionsOf(flags, address),
  };
  const input = messagesOf(process.stdin, flags.binary === true);
  let retry = FIRST_RETRY;
  for (;;) {
    let conn: WebSocketConn;
    try {
      conn = await dialWebSocket(address, dialOptions);
    } catch (err) {
      if (!flags.reconnect) throw err;
      warn(`${(err as SockkitError).message}; connecting again in ${formatDuration(retry)}`);
      if (await inputEndsWithin(input, retry)) throw err;
      retry = Math.min(retry * 2, LAST_RETRY);
      continue;
    }
    const openedAt = Date.now();
    const outcome = await session(conn, input, flags);
    const ending = endingOf(conn, 'connect', url);
    if (flags.verbose) warn(`${url}: ${closeWords(conn)}`);
    if (outcome === 'input-ended') {
      if (ending) throw ending;
      return;
    }
    if (!flags.reconnect) {
      if (ending) throw ending;
      return;
    }
    if (Date.now() - openedAt >= STABLE) retry = FIRST_RETRY;
    warn(`${url}: ${ending?.reason ?? closeWords(conn)}; connecting again in ${formatDuration(retry)}`);
    if (await inputEndsWithin(input, retry)) {
      if (ending) throw ending;
      return;
    }
    retry = Math.min(retry * 2, LAST_RETRY);
  }
}

/**
 * inputEndsWithin waits out a back-off of `delay` ms and tells whether stdin ended meanwhile (then
 * at once): the end of stdin ends the command, connected or not. A line that arrives waits for the
 * next connection. The delay doubles after each attempt, so a reconnect loop never spins.
 */
async function inputEndsWithin(input: MessageSource, delay: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), delay);
  });
  const ended = input.peek().then((message) => (message === undefined ? true : waited));
  const outcome = await Promise.race([waited, ended]);
  clearTimeout(timer);
  return outcome;
}

/**
 * session runs one connection: preamble, then stdin to the server and the server's messages to
 * stdout. It resolves `input-ended` once stdin has ended and the connection is closed, or
 * `closed` when the connection closed first.
 */
async function session(
  conn: WebSocketConn,
  input: MessageSource,
  flags: WebSocketConnectFlags,
): Promise<'input-ended' | 'closed'> {
  const printing = printMessages(conn);
  const closed = conn.closed.then(() => 'closed' as const);
  try {
    for (const message of flags.preamble ?? []) await conn.send(message);
    for (;;) {
      const got = await Promise.race([input.peek(), closed]);
      if (got === 'closed') break;
      if (got === undefined) {
        await conn.close(1000);
        await printing;
        return 'input-ended';
      }
      // A send that fails (the connection closed) leaves the message for the next connection.
      await conn.send(got, { binary: flags.binary === true });
      input.consume();
    }
  } catch {
    // The connection is closed; what failed, if anything, is in conn.error.
    conn.terminate();
  }
  await printing;
  return 'closed';
}

/** WebSocketSendFlags are the `send` flags that matter for ws://. */
interface WebSocketSendFlags extends WebSocketClientFlags, TlsClientFlags {
  timeout: number;
  binary?: boolean;
}

/**
 * sendWebSocket (the flags are `command`'s) connects, sends `message` as one text message (binary
 * with `--binary`), prints the first message that comes back, closes with 1000 and resolves.
 * Rejects with NoReplyError when the server closes without replying, TimeoutError past `--timeout`.
 */
export async function sendWebSocket(
  address: WebSocketAddress,
  message: string,
  command: Command,
): Promise<void> {
  const flags = command.opts<WebSocketSendFlags>();
  const url = formatAddress(address);
  const deadline = Date.now() + flags.timeout;
  const conn = await dialWebSocket(address, {
    timeout: flags.timeout,
    trace: tracerFor(command, 'client'),
    tls: tlsClientOptionsOf(flags, address),
    ws: webSocketClientOptionsOf(flags, address),
  });
  try {
    const reply = await withDeadline(
      (async () => {
        await conn.send(message, { binary: flags.binary === true });
        return conn.read();
      })(),
      deadline,
      undefined,
      url,
      'send',
    );
    if (!reply)
      throw new NoReplyError('send', url, `the server closed without replying (${closeWords(conn)})`);
    await print(reply);
    await conn.close(1000);
  } catch (err) {
    throw rewrap(err, 'send', url);
  } finally {
    conn.terminate();
  }
}

/** addWebSocketSendFlags adds `send`'s ws:// flag: `--binary`. */
export function addWebSocketSendFlags(command: Command): Command {
  return command.option('--binary', 'ws://: send MESSAGE as a binary message, not as text');
}
