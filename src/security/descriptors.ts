/**
 * How many connections a server can hold before the process runs out of file descriptors
 * (RLIMIT_NOFILE, `ulimit -n`). Linux only: it reads /proc/self/limits and /proc/self/fd.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** DESCRIPTOR_RESERVE is how many descriptors are kept back for everything but connections (files, DNS, logs). */
export const DESCRIPTOR_RESERVE = 32;

/** DescriptorBudget is the descriptor limit and how many connections fit under it. */
export interface DescriptorBudget {
  /** The soft limit on open files (`ulimit -n`). */
  readonly limit: number;
  /** Descriptors open now. */
  readonly open: number;
  /** Connections that fit: limit, less what is open now, less DESCRIPTOR_RESERVE. At least 1. */
  readonly connections: number;
}

/**
 * descriptorBudget reads this process's open-file limit and descriptor count. It returns undefined
 * where they cannot be read (not Linux) or the limit is unlimited.
 */
export function descriptorBudget(reserve = DESCRIPTOR_RESERVE): DescriptorBudget | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const limit = Number(soft);
    // The listing itself holds one descriptor while it runs.
    const open = readdirSync('/proc/self/fd').length - 1;
    return { limit, open, connections: Math.max(1, limit - open - reserve) };
  } catch {
    return undefined;
  }
}
