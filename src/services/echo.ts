/**
 * The echo service (RFC 862) over a stream: every byte received is sent back, unchanged.
 */
import type { Socket } from 'node:net';
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
  // The fast path (no readable stream, no 64 KiB buffer per read) shares its listeners among all
  // connections, so an idle one costs little; traced connections narrate every step instead.
  if (conn.tracing) {
    conn.socket.on('end', () => void conn.closeWrite());
    conn.onData(echo);
    return;
  }
  conn.socket.on('end', endWrite);
  if (!readInto(conn.socket, echoChunk)) conn.onData(echo);
}

/** echoChunk is the fast path's echo, one function for every socket (see readInto). */
function echoChunk(chunk: Buffer, socket: Socket): void {
  if (!socket.write(chunk)) {
    socket.pause();
    socket.once('drain', resumeReading);
  }
}

function resumeReading(this: Socket): void {
  this.resume();
}

/** endWrite half-closes a socket whose peer has finished sending: the echo's last step. */
function endWrite(this: Socket): void {
  this.end();
}

/**
 * echoDatagram sends each datagram back to the peer that sent it, unchanged (RFC 862, UDP). It
 * keeps nothing: the received buffer itself is sent back.
 */
export function echoDatagram(data: Buffer, peer: Peer, conn: PacketConn): void {
  conn.write(data, peer);
}
