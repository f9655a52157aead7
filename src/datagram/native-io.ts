/**
 * The native datagram path: sockkit's own addon `sockkit-udp-batch` (native/udp-batch) takes over
 * a bound dgram socket's reading and writing. It waits on the descriptor through libuv, receives
 * up to BATCH datagrams per `recvmmsg` call and hands them over as one batch, and sends the
 * datagrams written during one turn of the event loop with one `sendmmsg` call. Node's `dgram`
 * makes one system call per datagram each way, which is most of a UDP echo's cost. Where the
 * kernel has UDP GSO, a run of equal-sized datagrams to one peer leaves as one message the kernel
 * cuts up (`SOCKKIT_GSO=0` turns that off; a kernel that refuses it turns it off for the socket),
 * and with GRO a message the kernel joined from several datagrams is cut back into them
 * (`SOCKKIT_GRO=0` turns that off).
 *
 * The dgram socket still does everything else (bind, connect, options, close), so every option
 * and error of the plain path is unchanged. The path is optional: without the addon (no compiler
 * at install, not Linux), with `SOCKKIT_NATIVE=0`, or with a tracer, PacketConn stays on dgram.
 */
import type { Socket } from 'node:dgram';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { loadNativeAddon, UDP_BATCH_MODULE, type UdpBatch, type UdpBatchModule } from '../native-addon.js';
import { datagramHandle } from '../node-internals.js';

const { EAGAIN, EBADF, ENOBUFS } = constants.errno;

/**
 * The addon's contract this file was written for: batches from a delivery pass as
 * `onReceive(count, data, start)`, replies written during it sent by the addon. A build of an
 * older addon (not rebuilt since) would never send those replies: it is not used.
 */
const UDP_BATCH_ABI = 2;
/** Datagrams received per system call (the C reference server's figure). */
const BATCH = 64;
/** Received IPv4 peers remembered per socket, so a busy peer costs no string per datagram. */
const PEER_CACHE = 4096;

/**
 * DatagramPath says how a socket's datagrams move: through the native addon in batches, or through
 * Node's dgram one system call each, and why.
 */
export interface DatagramPath {
  readonly native: boolean;
  /**
   * Why, in a few words: `recvmmsg/sendmmsg, 64 per call` on the native path; otherwise what keeps
   * it off: `SOCKKIT_NATIVE=0`, `traced`, `tapped`, or `the addon did not load: ...` (with the fix).
   */
  readonly reason: string;
}

/** SocketUse is what a socket is asked to do that the native path cannot: each datagram narrated or tapped. */
export interface SocketUse {
  /** A tracer narrates each datagram (dgram's events do that). */
  readonly traced?: boolean | undefined;
  /** A capture tap sees each datagram. */
  readonly tapped?: boolean | undefined;
}

/**
 * datagramPath tells which path a new PacketConn takes in this process, and why: `SOCKKIT_NATIVE=0`
 * forces dgram; so does `use` that needs each datagram seen (a traced or tapped socket, which
 * dgram's events serve); otherwise the native path is taken when its addon loads. A PacketConn's
 * own `path` says what it took.
 */
export function datagramPath(env: NodeJS.ProcessEnv = process.env, use: SocketUse = {}): DatagramPath {
  if (env.SOCKKIT_NATIVE === '0') return { native: false, reason: 'SOCKKIT_NATIVE=0' };
  if (use.traced) return { native: false, reason: 'traced' };
  if (use.tapped) return { native: false, reason: 'tapped' };
  const found = loadNativeAddon();
  if ('reason' in found) return { native: false, reason: found.reason };
  return { native: true, reason: `recvmmsg/sendmmsg, ${BATCH} per call` };
}

/** NativePeer is where a datagram came from, as PacketConn's Peer. */
export interface NativePeer {
  readonly address: string;
  readonly port: number;
}

/** NativeSink is what a NativeIo delivers to: each datagram, and each failure (as a Node system error). */
export interface NativeSink {
  receive(data: Buffer, peer: NativePeer): void;
  fail(err: NodeJS.ErrnoException): void;
}

/** WriteOutcome tells the caller of `write` and `sendNow` what became of a datagram. */
export type WriteOutcome = 'sent' | 'queued' | 'full' | 'closed' | 'elsewhere';

/**
 * NativeIo moves one dgram socket's datagrams through the addon. Open it with `openNativeIo`;
 * close it before closing the dgram socket.
 */
export class NativeIo {
  readonly #batch: UdpBatch;
  readonly #meta: DataView;
  readonly #metaBytes: Buffer;
  readonly #entry: number;
  readonly #text: number;
  readonly #notLiteral: number;
  readonly #sink: NativeSink;
  readonly #peers = new Map<number, NativePeer>();
  #lastPeerKey = -1;
  #lastPeer: NativePeer | undefined;
  readonly #flush = (): void => this.flush();
  readonly #mayQueue: boolean;
  #flushScheduled = false;
  /** True while a batch is being delivered: what is written meanwhile goes out when it ends. */
  #delivering = false;
  #closed = false;

  constructor(module: UdpBatchModule, fd: number, sendQueueLimit: number, sink: NativeSink) {
    this.#sink = sink;
    this.#mayQueue = sendQueueLimit >= 1;
    this.#batch = new module.UdpBatch(
      fd,
      BATCH,
      Math.max(1, Math.min(sendQueueLimit, 1 << 20)),
      (count, data, start) => this.#receive(count, data, start),
      (errno) => this.#sink.fail(systemError(errno)),
    );
    if (this.#batch.abi !== UDP_BATCH_ABI) {
      this.#batch.close();
      throw new Error(`${UDP_BATCH_MODULE} is a stale build: run \`npm rebuild ${UDP_BATCH_MODULE}\``);
    }
    if (process.env.SOCKKIT_GSO === '0') this.#batch.setGso?.(false);
    if (process.env.SOCKKIT_GRO === '0') this.#batch.setGro?.(false);
    this.#meta = new DataView(this.#batch.meta);
    this.#metaBytes = Buffer.from(this.#batch.meta);
    this.#entry = module.constants.META_ENTRY;
    this.#text = module.constants.META_TEXT;
    this.#notLiteral = module.constants.NOT_LITERAL;
  }

  /**
   * write queues `data` for the next flush (at the end of this turn: one sendmmsg for all that
   * was written in it). 'full' when `sendQueueLimit` datagrams are waiting; 'elsewhere' when
   * the host is not an IP literal (or the port is invalid): the caller sends it through dgram.
   */
  write(data: Uint8Array, peer: NativePeer | undefined): WriteOutcome {
    if (!this.#mayQueue) return 'full';
    const queued = this.#batch.enqueue(data, peer?.port, peer?.address);
    if (queued > 0) {
      // Replies written while a batch is delivered are sent by the addon once its delivery pass
      // has handed every socket its batch (see #receive); other writes, at the end of this turn.
      if (!this.#delivering && !this.#flushScheduled) {
        this.#flushScheduled = true;
        process.nextTick(this.#flush);
      }
      return 'queued';
    }
    return this.#outcome(queued);
  }

  /**
   * sendNow sends what is queued, then `data` at once. 'sent' once the kernel took it; 'elsewhere'
   * when the caller must send it through dgram (not an IP literal, or the kernel's buffer is full
   * and dgram's queue will wait for room). Throws the system's error when the kernel refused it.
   */
  sendNow(data: Uint8Array, peer: NativePeer | undefined): WriteOutcome {
    this.flush();
    const result = this.#batch.sendNow(data, peer?.port, peer?.address);
    if (result === 0) return 'sent';
    // EAGAIN: dgram queues it until the socket is writable.
    if (result === -EAGAIN || result === this.#notLiteral) return 'elsewhere';
    if (result === -EBADF) return 'closed';
    throw systemError(-result);
  }

  /** flush sends what is queued now; a datagram the kernel refused is reported to the sink. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const errno = this.#batch.flush();
    if (errno !== 0) this.#sink.fail(systemError(errno));
  }

  /**
   * close sends what is queued (as far as the kernel takes it at once), stops, and calls `then`
   * once the addon's descriptor is closed (later in this turn of the loop). Idempotent: a second
   * call does nothing, and does not call `then`.
   */
  close(then?: () => void): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#batch.close(then);
  }

  #outcome(result: number): WriteOutcome {
    if (result === this.#notLiteral) return 'elsewhere';
    if (result === -EBADF) return 'closed';
    if (result === -ENOBUFS) return 'full'; // sendQueueLimit datagrams are waiting
    // EMSGSIZE, EAFNOSUPPORT (an IPv6 peer on an IPv4 socket): as dgram, a socket error.
    this.#sink.fail(systemError(-result));
    return 'closed';
  }

  /** #receive delivers a batch: `count` datagrams, back to back in `data` from byte `start`. */
  #receive(count: number, data: Buffer, start: number): void {
    const meta = this.#meta;
    let offset = start;
    // What the sink writes meanwhile is sent by the addon when its delivery pass ends: one
    // sendmmsg per socket for the replies to every socket's batch, without a tick queue to run.
    this.#delivering = true;
    try {
      for (let i = 0; i < count && !this.#closed; i += 1) {
        const at = i * this.#entry;
        const length = meta.getUint32(at, true);
        const port = meta.getUint16(at + 4, true);
        const datagram = length === data.length ? data : data.subarray(offset, offset + length);
        offset += length;
        this.#sink.receive(datagram, this.#peer(at, port));
      }
    } finally {
      this.#delivering = false;
    }
  }

  #peer(at: number, port: number): NativePeer {
    const family = this.#meta.getUint8(at + 6);
    const textStart = at + this.#text;
    const textEnd = textStart + this.#meta.getUint8(at + 7);
    if (family !== 4) return { address: this.#metaBytes.toString('latin1', textStart, textEnd), port };
    const key = this.#meta.getUint32(at + 8, true) * 65536 + port;
    // A connected socket, or a busy peer, sends batch after batch: no map lookup for the last one.
    if (key === this.#lastPeerKey) return this.#lastPeer as NativePeer;
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      if (this.#peers.size >= PEER_CACHE) this.#peers.clear();
      peer = { address: this.#metaBytes.toString('latin1', textStart, textEnd), port };
      this.#peers.set(key, peer);
    }
    this.#lastPeerKey = key;
    this.#lastPeer = peer;
    return peer;
  }
}

/**
 * openNativeIo moves `socket` (bound, and connected if it is to be) onto the native path and
 * returns its NativeIo, or undefined when the native path is off or unavailable (see
 * `datagramPath`): the caller keeps using dgram. After it, dgram no longer reads the socket.
 */
export function openNativeIo(socket: Socket, sendQueueLimit: number, sink: NativeSink): NativeIo | undefined {
  if (!datagramPath().native) return undefined;
  const found = loadNativeAddon();
  if (!('module' in found)) return undefined;
  const handle = datagramHandle(socket);
  if (!handle) return undefined;
  let io: NativeIo;
  try {
    io = new NativeIo(found.module, handle.fd, sendQueueLimit, sink);
  } catch {
    return undefined; // not a socket the addon takes (or out of memory): dgram still works
  }
  handle.recvStop();
  return io;
}

/** systemError builds the error Node would report for `errno`, with its name as `code`. */
function systemError(errno: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  return Object.assign(new Error(code), { code, errno: -errno });
}
