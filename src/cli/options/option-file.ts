/**
 * Files that flags name and that are read whole before a run (`--ca`, `--cert`, `--key`,
 * `--requests`, `--compare`): only a regular file of bounded size is read, so that a device
 * (`/dev/zero`), a FIFO nobody writes or a file of gigabytes is a usage error naming the file and
 * the limit, never a read that takes all memory or never ends.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { formatSize, UsageError } from '../../index.js';

/** MAX_OPTION_FILE is the largest file a flag's file may be, in bytes: 64 MiB. */
export const MAX_OPTION_FILE = 64 * 1024 * 1024;

const CHUNK = 64 * 1024;

/**
 * readOptionFile reads the file `path` that `flag` names, whole. Throws UsageError
 * (`--compare: cannot read /dev/zero: not a regular file (at most 64MiB is read)`) for a file
 * that is missing or unreadable, not a regular file, or larger than `limit` bytes (default
 * MAX_OPTION_FILE) — also one that grows past it as it is read (a file under /proc says size 0).
 */
export function readOptionFile(flag: string, path: string, limit = MAX_OPTION_FILE): Buffer {
  const refuse = (why: string): UsageError => new UsageError(flag, `cannot read ${path}: ${why}`);
  const bound = `at most ${formatSize(limit)} is read`;
  const tooLarge = `larger than ${formatSize(limit)}, the most that is read`;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, and a terminal must not become ours.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw refuse(openFailure(err as NodeJS.ErrnoException));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw refuse('a directory, not a file');
    if (!stat.isFile()) throw refuse(`not a regular file (${bound})`);
    if (stat.size > limit) throw refuse(tooLarge);
    // One buffer, of the size the file says (plus a byte, to see it grow), grown only for a file
    // that says less than it holds (under /proc): a 64 MiB file costs 64 MiB, not twice that.
    let buffer = Buffer.allocUnsafe(Math.min(Math.max(stat.size, CHUNK), limit) + 1);
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        if (total > limit) throw refuse(tooLarge);
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit + 1));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
      let read: number;
      try {
        read = readSync(fd, buffer, total, buffer.length - total, null);
      } catch (err) {
        throw refuse(openFailure(err as NodeJS.ErrnoException));
      }
      if (read === 0) break;
      total += read;
    }
    if (total > limit) throw refuse(tooLarge);
    return buffer.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

function openFailure(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a directory, not a file';
    default:
      return err.code ?? 'cannot be read';
  }
}
