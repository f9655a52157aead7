/**
 * What the WebSocket modes of `connect`, `send` and `listen` share: stdin cut into messages, the
 * messages received written to stdout, and how a connection's end reads.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import {
  ProtocolError,
  rewrap,
  type SockkitError,
  type WebSocketConn,
  type WebSocketMessage,
} from '../../index.js';

/**
 * MessageSource holds stdin's next message until a connection has taken it: a message read while
 * a connection drops is sent on the next one, not lost.
 */
export interface MessageSource {
  /** peek resolves with the next message (the same one until `consume`), or undefined once stdin has ended. */
  peek(): Promise<string | Buffer | undefined>;
  /** consume drops the message `peek` gave: it was sent. */
  consume(): void;
}

/** messagesOf cuts `input` into messages: each line (as text), or each chunk read (binary). */
export function messagesOf(input: NodeJS.ReadableStream, binary: boolean): MessageSource {
  const iterator: AsyncIterator<string | Buffer> = binary
    ? (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
    : createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
  let pending: Promise<string | Buffer | undefined> | undefined;
  return {
    peek() {
      pending ??= iterator.next().then((result) => (result.done ? undefined : result.value));
      return pending;
    },
    consume() {
      pending = undefined;
    },
  };
}

/** printMessages writes each message to stdout (text then a newline), pausing the connection while stdout is full. */
export async function printMessages(conn: WebSocketConn): Promise<void> {
  try {
    for await (const message of conn) await print(message);
  } catch {
    // The connection's failure is in conn.error, reported by the caller.
  }
}

export async function print(message: WebSocketMessage): Promise<void> {
  const room = process.stdout.write(message.data);
  const newline = message.binary ? true : process.stdout.write('\n');
  if (!room || !newline) await once(process.stdout, 'drain');
}

/**
 * endingOf is the error a connection's end means for the command, or undefined for a clean end:
 * a close with 1000 (normal), 1001 (going away) or 1005 (no code) is clean.
 */
export function endingOf(conn: WebSocketConn, op: string, url: string): SockkitError | undefined {
  if (conn.error) return rewrap(conn.error, op, url);
  const code = conn.closeCode;
  if (code === 1000 || code === 1001 || code === 1005) return undefined;
  return new ProtocolError(op, url, closeWords(conn));
}

/** closeWords says how a connection ended: `closed by the server: 1000 "bye"`. */
export function closeWords(conn: WebSocketConn): string {
  if (conn.error) return conn.error.reason;
  const code = conn.closeCode;
  if (code === 1006 || code === undefined) return 'the connection dropped without a close frame (1006)';
  const reason = conn.closeReason ? ` "${conn.closeReason}"` : '';
  return `closed with code ${code}${code === 1005 ? ' (none given)' : ''}${reason}`;
}
