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
   * stats counts what this socket's flushes sent: `messages` sendmmsg entries carrying `datagrams`
   * datagrams, `gsoMessages` of them GSO runs; `gso` tells whether GSO is on for the socket.
   */
  stats(): { messages: number; datagrams: number; gsoMessages: number; gso: boolean };
  /** setGso turns GSO on (only where the kernel has UDP_SEGMENT) or off; returns 1 when it is on. */
  setGso(on: boolean): number;
}
/** sendTotals sums every UdpBatch's `stats()` on this thread, closed ones included. */
export declare function sendTotals(): { messages: number; datagrams: number; gsoMessages: number };
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
