/**
 * The discard service (RFC 863): everything received is thrown away, and nothing is ever sent.
 */
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { Conn } from '../stream/conn.js';

/**
 * discardStream reads `conn` and throws every byte away until the client closes its side, then
 * closes ours. It reads as fast as the client sends: nothing is kept, so memory stays flat.
 */
export function discardStream(conn: Conn): void {
  conn.onData(ignore);
  conn.socket.once('end', () => void conn.closeWrite());
}

/** discardDatagram ignores the datagram: RFC 863 says "no response is sent". */
export function discardDatagram(_data: Buffer, _peer: Peer, _conn: PacketConn): void {}

function ignore(): void {}
