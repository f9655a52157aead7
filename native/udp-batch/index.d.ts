/** UdpBatch owns a duplicate of a bound UDP socket's descriptor and moves datagrams in batches. */
export declare class UdpBatch {
  constructor(
    fd: number,
    batchSize: number,
    queueLimit: number,
    /** The batch's payloads are back to back in `data` from byte `start` (a pass's sockets share `data`). */
    onReceive: (count: number, data: Buffer, start: number) => void,
    onError: (errno: number) => void,
  );
  /** META_ENTRY bytes per datagram of the batch being delivered: length, port, family, address. */
  readonly meta: ArrayBuffer;
  /** abi is the contract this build keeps with sockkit's native-io.ts (2: delivery passes, `start`). */
  readonly abi: number;
  enqueue(data: Uint8Array, port: number | undefined, host: string | undefined): number;
  flush(): number;
  sendNow(data: Uint8Array, port: number | undefined, host: string | undefined): number;
  /** close sends what is queued, stops, closes its descriptor, then calls `callback`. Idempotent. */
  close(callback?: () => void): void;
  /**
   * stats counts what this socket sent and received (see Totals); `gso` and `gro` tell whether
   * GSO and GRO are on for it.
   */
  stats(): Totals & { gso: boolean; gro: boolean };
  /** setGso turns GSO on (only where the kernel has UDP_SEGMENT) or off; returns 1 when it is on. */
  setGso(on: boolean): number;
  /** setGro turns GRO on receive on (only where the kernel has UDP_GRO) or off; returns 1 when it is on. */
  setGro(on: boolean): number;
}
/**
 * Totals counts what was sent (`messages` sendmmsg entries carrying `datagrams` datagrams,
 * `gsoMessages` of them GSO runs) and received (`receivedMessages` messages, GRO ones cut into
 * `receivedDatagrams` datagrams).
 */
export interface Totals {
  messages: number;
  datagrams: number;
  gsoMessages: number;
  receivedMessages: number;
  receivedDatagrams: number;
}
/** totals sums every UdpBatch's `stats()` on this thread, closed ones included. */
export declare function totals(): Totals;
export declare const constants: {
  readonly META_ENTRY: number;
  readonly META_TEXT: number;
  readonly NOT_LITERAL: number;
  readonly MAX_BATCH: number;
};
/**
 * attachSocketFilter attaches a classic BPF program (`struct sock_filter` instructions, 8 bytes
 * each, host byte order) to the socket `fd` with SO_ATTACH_FILTER. With `discardQueued` it then
 * discards what was queued before the filter (only on a socket nothing reads yet). Returns the
 * count discarded, or -errno when the kernel refused the filter. Throws TypeError or RangeError
 * for bad arguments.
 */
export declare function attachSocketFilter(fd: number, program: Buffer, discardQueued: boolean): number;
