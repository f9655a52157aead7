/**
 * FaultCounts counts the faults a server or a relay injected, for its shutdown summary: one
 * counter per fault, shared by every connection (each server has its own).
 */

/** FaultCounts is what was injected, and how often. Every count starts at 0. */
export interface FaultCounts {
  /** Stream chunks held back by `delay`/`jitter`. */
  chunksDelayed: number;
  /** Times a stream direction waited for `throttle`'s tokens. */
  throttleWaits: number;
  /** Writes made by `slice` (each at most `slice` bytes). */
  slices: number;
  /** Connections reset by `resetAfter`. */
  resets: number;
  /** Connections closed by `closeAfter`. */
  closes: number;
  /** Datagrams held back by `delay`/`jitter`. */
  datagramsDelayed: number;
  /** Datagrams dropped by `loss`. */
  datagramsLost: number;
  /** Datagrams sent twice by `duplicate`. */
  datagramsDuplicated: number;
  /** Datagrams dropped because too many were held back at once (see DatagramFaults). */
  datagramsOverflowed: number;
}

/** newFaultCounts returns counts that are all zero. */
export function newFaultCounts(): FaultCounts {
  return {
    chunksDelayed: 0,
    throttleWaits: 0,
    slices: 0,
    resets: 0,
    closes: 0,
    datagramsDelayed: 0,
    datagramsLost: 0,
    datagramsDuplicated: 0,
    datagramsOverflowed: 0,
  };
}
