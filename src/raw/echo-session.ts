/**
 * EchoSession: ICMP echo requests sent from one raw socket under one identifier, each matched
 * to what answers it: an echo reply, or an ICMP error that quotes it. Ping and traceroute are
 * both built on it. A raw socket receives every ICMP message reaching the host, so matching by
 * identifier and sequence is what keeps two pings running at once from confusing each other.
 */
import { randomInt } from 'node:crypto';
import { AbortError, type SockkitError } from '../errors.js';
import type { Tracer } from '../trace.js';
import type { PacketLayout } from './hexdump.js';
import { type EchoMessage, type ErrorMessage, encodeEcho, type IpFamily, type Pseudo } from './icmp.js';
import { describeIcmpError } from './icmp-names.js';
import { IcmpSocket, type ReceivedPacket } from './icmp-socket.js';
import { pseudoFor } from './local-address.js';

/** EchoReply is an echo reply matched to a request. */
export interface EchoReply {
  readonly kind: 'reply';
  readonly sequence: number;
  readonly source: string;
  /** Bytes of ICMP message received (header and payload, as iputils counts them). */
  readonly bytes: number;
  /** The reply's TTL (IPv4 only: a raw ICMPv6 socket does not see the hop limit). */
  readonly ttl?: number | undefined;
  /** Round-trip time in milliseconds. */
  readonly rtt: number;
  /** True when this sequence had been answered already (a duplicate, iputils' `DUP!`). */
  readonly duplicate: boolean;
  /** True when the payload came back different from the one sent. */
  readonly corrupted: boolean;
}

/** EchoErrorOutcome is an ICMP error (time exceeded, unreachable...) that quotes one of our requests. */
export interface EchoErrorOutcome {
  readonly kind: 'error';
  readonly sequence: number;
  /** The router or host that sent the error. */
  readonly source: string;
  /** The ICMP type and code of the error. */
  readonly icmpType: number;
  readonly icmpCode: number;
  /** The error in iputils' words: `Time to live exceeded`, `Destination Host Unreachable`. */
  readonly text: string;
  readonly errorKind: ErrorMessage['kind'];
  /** The error header's second word: an MTU or a pointer. */
  readonly rest: number;
  readonly rtt: number;
}

/** EchoTimeout says that nothing answered a request within its timeout. */
export interface EchoTimeout {
  readonly kind: 'timeout';
  readonly sequence: number;
}

/** EchoOutcome is how one echo request ended. */
export type EchoOutcome = EchoReply | EchoErrorOutcome | EchoTimeout;

/** WireEvent is a packet this session sent or one it received and matched, for hex dumps. */
export interface WireEvent {
  readonly direction: 'sent' | 'received';
  /** The peer: the destination of a sent packet, the source of a received one. */
  readonly address: string;
  readonly bytes: Buffer;
  readonly layout: PacketLayout;
  /** The TTL or hop limit a sent packet was given, when not the system default. */
  readonly ttl?: number | undefined;
}

/** EchoSessionOptions configure an EchoSession. */
export interface EchoSessionOptions {
  readonly trace?: Tracer | undefined;
  /** Called for every packet sent, and every received packet that matched a request. */
  readonly onWire?: ((event: WireEvent) => void) | undefined;
  /** Called for replies to a request already answered (`duplicate`) or given up on (a late reply). */
  readonly onLate?: ((outcome: EchoReply) => void) | undefined;
  /** The operation and address errors name, such as `ping 192.0.2.1`. */
  readonly op?: string | undefined;
  readonly url?: string | undefined;
}

/** EchoRequestOptions configure one request. */
export interface EchoRequestOptions {
  readonly sequence: number;
  readonly payload?: Uint8Array | undefined;
  /** TTL (IPv4) or hop limit (IPv6) for this request; the system default when unset. */
  readonly ttl?: number | undefined;
  /** How long to wait for an answer, in milliseconds. */
  readonly timeout: number;
  readonly signal?: AbortSignal | undefined;
}

interface Finished {
  readonly sentAt: number;
  readonly payload: Uint8Array;
  /** True once a reply came; false when the request timed out. */
  readonly replied: boolean;
}

interface Pending {
  /** When the request left: set again just before the datagram is handed to the kernel. */
  sentAt: number;
  readonly payload: Uint8Array;
  readonly settle: (outcome: EchoOutcome) => void;
}

const identifiersInUse = new Set<number>();

/** A session remembers this many finished requests, to recognise duplicates and late replies. */
const REMEMBERED = 1024;

/**
 * EchoSession sends echo requests to one `address` and matches their answers. Open it with
 * `EchoSession.open`, which opens the raw socket (and so may reject with ERR_PERMISSION_DENIED or
 * ERR_RAW_UNAVAILABLE); close it when done.
 */
export class EchoSession {
  readonly address: string;
  readonly family: IpFamily;
  /** The echo identifier every request carries, unique within this process. */
  readonly identifier: number;
  readonly #socket: IcmpSocket;
  readonly #pseudo: Pseudo | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #finished = new Map<number, Finished>();
  readonly #options: EchoSessionOptions;
  /**
   * onLate receives replies to a request already answered (`duplicate`) or given up on (a late
   * reply); it starts as the `onLate` option and may be replaced.
   */
  onLate: ((reply: EchoReply) => void) | undefined;

  private constructor(
    socket: IcmpSocket,
    address: string,
    pseudo: Pseudo | undefined,
    options: EchoSessionOptions,
  ) {
    this.#socket = socket;
    this.address = address;
    this.family = socket.family;
    this.#pseudo = pseudo;
    this.#options = options;
    this.onLate = options.onLate;
    this.identifier = allocateIdentifier();
    socket.on('packet', (packet) => this.#match(packet));
    socket.on('error', () => {}); // a receive error loses one packet; its request times out
  }

  /** open opens a raw socket for `family` and a session towards the IP literal `address`. */
  static async open(
    address: string,
    family: IpFamily,
    options: EchoSessionOptions = {},
  ): Promise<EchoSession> {
    const socket = await IcmpSocket.open(family, { op: options.op, url: options.url, trace: options.trace });
    const pseudo = await pseudoFor(address, family);
    return new EchoSession(socket, address, pseudo, options);
  }

  /**
   * request sends one echo request and resolves with its outcome: a reply, an ICMP error quoting
   * it, or a timeout. Rejects with the send's SockkitError (no route...), or AbortError.
   */
  async request(options: EchoRequestOptions): Promise<EchoOutcome> {
    const { sequence, timeout, signal } = options;
    if (signal?.aborted) throw new AbortError(this.#options.op ?? 'echo', this.address);
    if (this.#pending.has(sequence))
      throw new RangeError(`sequence ${sequence} is already awaiting an answer`);
    const payload = options.payload ?? new Uint8Array(0);
    const message = encodeEcho(
      this.family,
      { identifier: this.identifier, sequence, payload },
      { pseudo: this.#pseudo },
    );
    this.#finished.delete(sequence);
    return new Promise<EchoOutcome>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(sequence);
      };
      const onAbort = (): void => {
        finish();
        reject(new AbortError(this.#options.op ?? 'echo', this.address));
      };
      const timer = setTimeout(() => {
        const sentAt = this.#pending.get(sequence)?.sentAt ?? performance.now();
        finish();
        this.#remember(sequence, { sentAt, payload, replied: false });
        resolve({ kind: 'timeout', sequence });
      }, timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      const pending: Pending = {
        sentAt: performance.now(),
        payload,
        settle: (outcome) => {
          finish();
          resolve(outcome);
        },
      };
      this.#pending.set(sequence, pending);
      this.#options.onWire?.({
        direction: 'sent',
        address: this.address,
        bytes: message,
        layout: { family: this.family, ipHeader: false, pseudo: this.#pseudo },
        ttl: options.ttl,
      });
      this.#socket
        .send(message, this.address, {
          ttl: options.ttl,
          beforeSend: () => {
            pending.sentAt = performance.now();
          },
        })
        .catch((err: SockkitError) => {
          finish();
          reject(err);
        });
    });
  }

  /** close closes the raw socket; requests still pending are left to time out. */
  close(): void {
    this.#socket.close();
    identifiersInUse.delete(this.identifier);
  }

  #match(packet: ReceivedPacket): void {
    const { message } = packet;
    if (message.kind === 'echo-reply') {
      if (message.identifier === this.identifier) this.#reply(packet, message);
      return;
    }
    if (!('quoted' in message)) return;
    const quoted = message.quoted.echo;
    if (!quoted || quoted.identifier !== this.identifier || quoted.type === 0 || quoted.type === 129) return;
    const pending = this.#pending.get(quoted.sequence);
    if (!pending) return;
    this.#wire(packet);
    pending.settle({
      kind: 'error',
      sequence: quoted.sequence,
      source: packet.source,
      icmpType: message.type,
      icmpCode: message.code,
      text: describeIcmpError(this.family, message.type, message.code, message.rest),
      errorKind: message.kind,
      rest: message.rest,
      rtt: packet.receivedAt - pending.sentAt,
    });
  }

  #reply(packet: ReceivedPacket, message: EchoMessage): void {
    const pending = this.#pending.get(message.sequence);
    const earlier = this.#finished.get(message.sequence);
    const request = pending ?? earlier;
    if (!request) return;
    this.#wire(packet);
    const reply: EchoReply = {
      kind: 'reply',
      sequence: message.sequence,
      source: packet.source,
      bytes: message.payload.length + 8,
      ttl: packet.ttl,
      rtt: packet.receivedAt - request.sentAt,
      duplicate: earlier?.replied === true,
      corrupted: !Buffer.from(request.payload).equals(message.payload),
    };
    if (pending) {
      this.#remember(message.sequence, { sentAt: pending.sentAt, payload: pending.payload, replied: true });
      pending.settle(reply);
    } else {
      this.#finished.set(message.sequence, { ...request, replied: true });
      this.onLate?.(reply);
    }
  }

  #remember(sequence: number, finished: Finished): void {
    this.#finished.set(sequence, finished);
    if (this.#finished.size > REMEMBERED) {
      const oldest = this.#finished.keys().next().value as number;
      this.#finished.delete(oldest);
    }
  }

  #wire(packet: ReceivedPacket): void {
    if (!this.#options.onWire) return;
    // A reply or error was sent to our local address: that pair is its ICMPv6 pseudo-header.
    const local = this.#pseudo?.source.replace(/%.*$/, '');
    const source = packet.source.replace(/%.*$/, '');
    const pseudo = this.family === 6 && local ? { source, destination: local } : undefined;
    this.#options.onWire({
      direction: 'received',
      address: packet.source,
      bytes: packet.bytes,
      layout: { family: this.family, ipHeader: this.family === 4, pseudo },
    });
  }
}

/** allocateIdentifier picks a random echo identifier no other session in this process holds. */
function allocateIdentifier(): number {
  for (;;) {
    const identifier = randomInt(1, 0x10000);
    if (!identifiersInUse.has(identifier)) {
      identifiersInUse.add(identifier);
      return identifier;
    }
  }
}
