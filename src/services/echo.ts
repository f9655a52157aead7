/**
 * The echo service (RFC 862) over a stream: every byte received is sent back, unchanged.
 */
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { Conn } from '../stream/conn.js';
import { readInto } from '../stream/read-into.js';

/**
 * echoStream echoes `conn` until the peer closes its write side, then finishes sending what is
 * queued and closes its own (half-close aware). Backpressure: while the peer is not reading our
 * replies and the socket's buffer is full, it stops reading from the peer, so memory stays bounded
 * by one buffer per connection however much the peer sends.
 */
export function echoStream(conn: Conn): void {
  const echo = (chunk: Buffer): void => {
    if (!conn.write(chunk)) {
      conn.pause();
      conn.socket.once('drain', () => conn.resume());
    }
  };
  conn.socket.once('end', () => void conn.closeWrite());
  // The fast path (no readable stream, no 64 KiB buffer per read); traced connections keep
  // 'data' events so every read is narrated.
  if (conn.tracing || !readInto(conn.socket, echo)) conn.onData(echo);
}

/**
 * echoDatagram sends each datagram back to the peer that sent it, unchanged (RFC 862, UDP). It
 * keeps nothing: the received buffer itself is sent back.
 */
export function echoDatagram(data: Buffer, peer: Peer, conn: PacketConn): void {
  conn.write(data, peer);
}
