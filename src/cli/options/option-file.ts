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
    if (stat.size > limit) throw refuse(`larger than ${formatSize(limit)}, the most that is read`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      let read: number;
      try {
        read = readSync(fd, chunk, 0, CHUNK, null);
      } catch (err) {
        throw refuse(openFailure(err as NodeJS.ErrnoException));
      }
      if (read === 0) break;
      total += read;
      if (total > limit) throw refuse(`larger than ${formatSize(limit)}, the most that is read`);
      chunks.push(chunk.subarray(0, read));
    }
    return Buffer.concat(chunks, total);
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
