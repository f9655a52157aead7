/**
 * Port lists as people write them for a scan: `22`, `1-1024`, `80,443,8000-8100`. Pure: text in,
 * ports out.
 */
import { UsageError } from '../errors.js';

/** MAX_PORT is the largest TCP or UDP port. */
export const MAX_PORT = 65_535;

/**
 * parsePorts reads a comma-separated list of ports and ranges (`1-1024,5432`) and returns every
 * port it names once, in ascending order. Throws UsageError naming `what` (the option or flag)
 * for an empty list, a malformed item, port 0, a port over 65535, or a reversed range (`90-80`).
 */
export function parsePorts(text: string, what = 'ports'): number[] {
  const ranges: Array<[number, number]> = [];
  for (const item of text.split(',')) {
    const match = /^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$/.exec(item);
    if (!match) {
      throw new UsageError(what, `invalid port list "${text}" (expected e.g. 22, 1-1024, 80,443,8000-8100)`);
    }
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (const port of [first, last]) {
      if (port < 1 || port > MAX_PORT) {
        throw new UsageError(what, `port ${port} in "${item.trim()}" is out of range (1-${MAX_PORT})`);
      }
    }
    if (last < first) {
      throw new UsageError(what, `range "${item.trim()}" is reversed (write ${last}-${first})`);
    }
    ranges.push([first, last]);
  }
  // Merge overlapping ranges first, so `1-65535` written a thousand times costs one pass.
  ranges.sort((x, y) => x[0] - y[0]);
  const ports: number[] = [];
  let next = 1;
  for (const [first, last] of ranges) {
    for (let port = Math.max(first, next); port <= last; port++) ports.push(port);
    next = Math.max(next, last + 1);
  }
  return ports;
}
