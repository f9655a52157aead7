/**
 * serveChatLines runs one chat client over a stream connection (tcp, unix, tls): lines in, lines
 * out, as `nc` and `ncat` speak. This is where a connection's limits live: the longest line, the
 * flood control's pace, and the bounded outgoing queue that keeps a slow reader from slowing the room.
 */
import { formatAddress } from '../address.js';
import { FrameTooLargeError, SockkitError } from '../errors.js';
import { FramedConn } from '../framing/framed-conn.js';
import { lineCodec } from '../framing/line.js';
import type { Conn } from '../stream/conn.js';
import { formatBytes } from '../units.js';
import type { Broker } from './broker.js';
import type { ChatClient, ChatPeer } from './chat-client.js';

/** DEFAULT_MAX_LINE is the longest line a chat client may send: 4 KiB. */
export const DEFAULT_MAX_LINE = 4096;
/** DEFAULT_MAX_QUEUE bounds the bytes waiting to be sent to one client: 1 MiB. */
export const DEFAULT_MAX_QUEUE = 1024 * 1024;

/** ChatLimits are the per-connection limits. */
export interface ChatLimits {
  /** The longest line a client may send, in bytes. Default 4 KiB. */
  readonly maxLineLength?: number | undefined;
  /**
   * The most bytes waiting to be sent to one client, beyond what the kernel's buffers hold. A
   * client that falls further behind is disconnected with a reason. Default 1 MiB.
   */
  readonly maxQueue?: number | undefined;
}

/**
 * serveChatLines admits `conn` to `broker` and relays its lines until the client quits, closes,
 * sends a line over the limit (it is told why, then closed), or reads too slowly (closed, and
 * the room told why). It never rejects: every way a client ends is an expected outcome, and an
 * unexpected error (a bug) ends this client's session alone, with one line in the broker's log.
 */
export async function serveChatLines(broker: Broker, conn: Conn, limits: ChatLimits = {}): Promise<void> {
  const maxQueue = limits.maxQueue ?? DEFAULT_MAX_QUEUE;
  const framed = new FramedConn(conn, lineCodec({ maxLength: limits.maxLineLength ?? DEFAULT_MAX_LINE }), {
    farewell: (err) =>
      err instanceof FrameTooLargeError
        ? `* error: line too long (over ${err.limit} bytes); closing`
        : undefined,
  });
  let dropReason: string | undefined;
  const peer: ChatPeer = {
    label: labelOf(conn),
    send(line) {
      if (dropReason || conn.socket.destroyed) return;
      // No line can hold a line feed: the broker sends only printable lines (a line feed in
      // one is shown as ^J), so one write is one line for the client.
      conn.write(`${line}\n`);
      const queued = conn.socket.writableLength;
      if (queued > maxQueue) {
        // The client reads slower than the room talks. Waiting for it would stall everyone, and
        // queueing more would grow without bound: drop the client, not the room.
        dropReason = `too slow: ${formatBytes(queued)} queued for it`;
        conn.close();
      }
    },
    close(farewell) {
      if (farewell && !conn.socket.destroyed) conn.write(`${farewell}\n`);
      endSoon(conn);
    },
  };
  let client: ChatClient | undefined;
  try {
    client = await broker.connect(peer);
    if (!client) return;
    let reason = 'connection closed';
    try {
      for await (const frame of framed) {
        await client.flood.wait();
        // Bytes that are not UTF-8 become U+FFFD here; control characters are the broker's to show.
        // After /quit, handle answers 'quit' to anything else the client had already sent.
        if ((await broker.handle(client, frame.toString('utf8'))) === 'quit') endSoon(conn);
      }
    } catch (err) {
      if (err instanceof FrameTooLargeError) reason = `line too long (over ${err.limit} bytes)`;
      else if (err instanceof SockkitError) reason = err.reason;
      else throw err;
    }
    await broker.disconnect(client, dropReason ?? reason);
    endSoon(conn);
  } catch (err) {
    // The last line of defence: whatever went wrong ends this session, never the server.
    if (client) broker.fail(client, err);
    else broker.log(`${peer.label}: internal error, connection closed (${reasonOf(err)})`);
    endSoon(conn);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** endSoon half-closes `conn` once queued lines are sent, and closes it if the peer lingers. */
function endSoon(conn: Conn): void {
  if (conn.socket.destroyed) return;
  void conn.closeWrite();
  setTimeout(() => conn.close(), 2000).unref();
}

/**
 * labelOf names a line client in the log: its address, or for a Unix client (which has no address
 * of its own) the socket it came in on and its connection number, so two of them can be told apart.
 */
function labelOf(conn: Conn): string {
  const { remoteAddress, localAddress } = conn;
  if (remoteAddress.scheme === 'unix' && remoteAddress.path === '')
    return `unix peer #${conn.socketId} on ${formatAddress(localAddress)}`;
  return formatAddress(remoteAddress);
}
