/**
 * The registry of simple services: each name maps to its stream handler (TCP, Unix, TLS) and its
 * datagram handler (UDP), so `sockkit serve NAME` can run it on any mix of listeners.
 */
import type { DatagramService } from '../datagram/serve-packets.js';
import type { StreamService } from '../stream/serve.js';
import { chargenDatagram, chargenStream } from './chargen.js';
import { daytimeDatagram, daytimeStream } from './daytime.js';
import { discardDatagram, discardStream } from './discard.js';
import { echoDatagram, echoStream } from './echo.js';
import { timeDatagram, timeStream } from './time.js';

/** Service is one simple service: its handlers for each kind of socket, and where it is defined. */
export interface Service {
  readonly name: string;
  /** The RFC that defines it, as `RFC 862`. */
  readonly rfc: string;
  /** Its well-known port (below 1024: binding it needs privileges). */
  readonly port: number;
  /** One line on what it does. */
  readonly summary: string;
  readonly stream: StreamService;
  readonly datagram: DatagramService;
}

/** services lists the classic simple services, by name. */
export const services = {
  echo: {
    name: 'echo',
    rfc: 'RFC 862',
    port: 7,
    summary: 'sends back every byte (TCP) or datagram (UDP) unchanged',
    stream: echoStream,
    datagram: echoDatagram,
  },
  discard: {
    name: 'discard',
    rfc: 'RFC 863',
    port: 9,
    summary: 'reads and throws everything away; never replies',
    stream: discardStream,
    datagram: discardDatagram,
  },
  chargen: {
    name: 'chargen',
    rfc: 'RFC 864',
    port: 19,
    summary: 'TCP: rotating 72-character lines until the client closes; UDP: 0-512 characters per datagram',
    stream: chargenStream,
    datagram: chargenDatagram,
  },
  daytime: {
    name: 'daytime',
    rfc: 'RFC 867',
    port: 13,
    summary: 'one human-readable date and time line (UTC), then close',
    stream: daytimeStream,
    datagram: daytimeDatagram,
  },
  time: {
    name: 'time',
    rfc: 'RFC 868',
    port: 37,
    summary: 'seconds since 1900 as 4 big-endian bytes, then close',
    stream: timeStream,
    datagram: timeDatagram,
  },
} as const satisfies Readonly<Record<string, Service>>;

/** ServiceName is the name of one of the simple services. */
export type ServiceName = keyof typeof services;

/** serviceNamed returns the service called `name`, or undefined. */
export function serviceNamed(name: string): Service | undefined {
  return Object.hasOwn(services, name) ? services[name as ServiceName] : undefined;
}
