/**
 * sockkit's own native addon, `sockkit-udp-batch` (native/udp-batch), loaded once for whoever needs
 * it: the datagram layer's batched path (datagram/native-io.ts) and the raw layer's socket filter
 * (raw/transport-socket.ts). It is an optional dependency: without it (no compiler at install, not
 * Linux) each user says why, and carries on without it.
 */
import { createRequire } from 'node:module';

/** UDP_BATCH_MODULE is the addon's package name. */
export const UDP_BATCH_MODULE = 'sockkit-udp-batch';

/** UdpBatch is the addon's hold on one UDP socket's descriptor (see native/udp-batch/index.d.ts). */
export interface UdpBatch {
  readonly meta: ArrayBuffer;
  /** Absent from a build older than datagram/native-io.ts expects (one that must be rebuilt): see its UDP_BATCH_ABI. */
  readonly abi?: number;
  enqueue(data: Uint8Array, port: number | undefined, host: string | undefined): number;
  flush(): number;
  sendNow(data: Uint8Array, port: number | undefined, host: string | undefined): number;
  close(callback?: () => void): void;
  /** What this socket sent and received, and whether GSO and GRO are on for it. Absent from a build older than GSO. */
  stats?(): UdpBatchTotals & { readonly gso: boolean; readonly gro: boolean };
  /** Turns GSO on (where the kernel has it) or off for this socket; returns 1 when on. Absent from a build older than GSO. */
  setGso?(on: boolean): number;
  /** Turns GRO on receive on (where the kernel has it) or off for this socket; returns 1 when on. Absent from a build older than GRO. */
  setGro?(on: boolean): number;
}

/**
 * UdpBatchTotals counts what was sent: `messages` entries of sendmmsg, carrying `datagrams`
 * datagrams, `gsoMessages` of the messages GSO runs (one message, several datagrams); and what was
 * received: `receivedMessages` messages, cut into `receivedDatagrams` datagrams (more where GRO
 * joined them).
 */
export interface UdpBatchTotals {
  readonly messages: number;
  readonly datagrams: number;
  readonly gsoMessages: number;
  readonly receivedMessages: number;
  readonly receivedDatagrams: number;
}

/** AttachSocketFilter is the addon's `attachSocketFilter` (see native/udp-batch/index.d.ts). */
export type AttachSocketFilter = (fd: number, program: Buffer, discardQueued: boolean) => number;

/** UdpBatchModule is what the addon exports. */
export interface UdpBatchModule {
  UdpBatch: new (
    fd: number,
    batchSize: number,
    queueLimit: number,
    onReceive: (count: number, data: Buffer, start: number) => void,
    onError: (errno: number) => void,
  ) => UdpBatch;
  constants: { META_ENTRY: number; META_TEXT: number; NOT_LITERAL: number };
  /** Absent from a build older than the socket filter (one that must be rebuilt). */
  attachSocketFilter?: AttachSocketFilter;
  /** The sums of every UdpBatch's stats on this thread. Absent from a build older than GRO. */
  totals?(): UdpBatchTotals;
}

/** Loaded is the addon, or why it is not there. */
export type Loaded = { readonly module: UdpBatchModule } | { readonly reason: string };
let loaded: Loaded | undefined;

/** loadNativeAddon loads the addon on first use, and says why not when it cannot (the answer is kept). */
export function loadNativeAddon(): Loaded {
  if (loaded) return loaded;
  if (process.platform !== 'linux') {
    loaded = { reason: `the addon needs Linux (recvmmsg/sendmmsg); this is ${process.platform}` };
    return loaded;
  }
  try {
    loaded = { module: createRequire(import.meta.url)(UDP_BATCH_MODULE) as UdpBatchModule };
  } catch (err) {
    const detail = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    loaded = {
      reason:
        `the addon did not load: the optional ${UDP_BATCH_MODULE} is not installed or did not build ` +
        `(${detail}); install a C compiler, make and python3, then run \`npm rebuild ${UDP_BATCH_MODULE}\``,
    };
  }
  return loaded;
}

/**
 * socketFilterAttacher returns the addon's `attachSocketFilter` (which returns the count of
 * datagrams it discarded, or -errno), or why there is none: the addon did not load, or was built
 * before it had one.
 */
export function socketFilterAttacher():
  | { readonly attach: AttachSocketFilter }
  | { readonly reason: string } {
  const found = loadNativeAddon();
  if ('reason' in found) return found;
  const { attachSocketFilter } = found.module;
  if (typeof attachSocketFilter === 'function') return { attach: attachSocketFilter };
  return {
    reason: `the ${UDP_BATCH_MODULE} addon was built without attachSocketFilter; run \`npm rebuild ${UDP_BATCH_MODULE}\``,
  };
}
