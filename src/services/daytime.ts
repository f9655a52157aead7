/**
 * The daytime service (RFC 867): one human-readable line with the current date and time.
 */
import type { PacketConn, Peer } from '../datagram/packet-conn.js';
import type { Conn } from '../stream/conn.js';
import { replyAndClose } from './one-shot.js';

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * daytimeLine formats `date` in RFC 867's suggested syntax, "Weekday, Month Day, Year Time-Zone",
 * in UTC, ended by CR LF: `Tuesday, February 22, 1982 17:37:43-UTC\r\n`. RFC 867 fixes no syntax;
 * this one is the RFC's own example, and UTC keeps the answer the same wherever the server runs.
 */
export function daytimeLine(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return (
    `${weekdays[date.getUTCDay()]}, ${months[date.getUTCMonth()]} ${date.getUTCDate()}, ` +
    `${date.getUTCFullYear()} ${time}-UTC\r\n`
  );
}

/** daytimeStream sends the current daytime line, then closes (RFC 867, TCP). */
export function daytimeStream(conn: Conn): void {
  replyAndClose(conn, daytimeLine(new Date()));
}

/** daytimeDatagram answers any datagram with one datagram holding the daytime line (RFC 867, UDP). */
export function daytimeDatagram(_data: Buffer, peer: Peer, conn: PacketConn): void {
  conn.write(daytimeLine(new Date()), peer);
}
