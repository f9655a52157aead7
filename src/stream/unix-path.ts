/**
 * Unix socket files outlive a server that crashed. Before binding a path, sockkit tells a stale
 * file (nobody accepts on it) from anything else: only the first is replaced. A live server, a
 * socket this user may not probe, and every file that is not a socket are refused and left alone,
 * since removing them would take a running server's address or destroy someone's file.
 */
import type { Stats } from 'node:fs';
import { lstat, readlink, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { formatAddress, type UnixAddress } from '../address.js';
import {
  AddressInUseError,
  AddressNotAvailableError,
  fromSystemError,
  PermissionDeniedError,
  type SockkitError,
} from '../errors.js';

/**
 * prepareUnixPath makes the path of `address` ready to bind: it removes a stale socket file, one
 * whose probe connect is refused (ECONNREFUSED). Anything else rejects and nothing is removed:
 * `ERR_ADDRESS_IN_USE` for a server that answers or whose accept queue is full, a socket of
 * another type, or a file that is not a socket (the reason says which: symbolic link, FIFO,
 * directory, regular file, device); `ERR_PERMISSION_DENIED` for a socket this user may not connect to.
 */
export async function prepareUnixPath(address: UnixAddress): Promise<void> {
  const { path } = address;
  const stats = await lstat(path).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw await unixListenError(address, err);
  });
  if (!stats) return;
  if (stats.isSymbolicLink()) {
    const target = await readlink(path).catch(() => undefined);
    throw inTheWay(address, `a symbolic link${target ? ` (to ${target})` : ''}`);
  }
  if (!stats.isSocket()) throw inTheWay(address, fileKind(stats));
  const errno = await probe(path);
  switch (errno) {
    case 'ECONNREFUSED':
      // Nobody accepts on it: the file is left from a server that is gone.
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw fromSystemError('listen', formatAddress(address), err);
      });
      return;
    case 'ENOENT':
      // Removed between lstat and the probe: nothing is in the way any more.
      return;
    case undefined:
      throw inUse(address, 'a server is accepting connections on it');
    case 'EAGAIN':
      // A Unix stream socket refuses a non-blocking connect with EAGAIN when its accept queue is full.
      throw inUse(address, 'a server holds it; its accept queue is full');
    case 'EPROTOTYPE':
      throw inUse(address, 'a socket of another type, such as datagram, is bound to it');
    case 'EACCES':
    case 'EPERM':
      throw new PermissionDeniedError(
        'listen',
        formatAddress(address),
        'permission denied (a socket file is there that this user may not connect to; it was left alone)',
      );
    default:
      throw inUse(address, `a socket file is there and probing it failed with ${errno}; it was left alone`);
  }
}

/**
 * unixListenError words a failure to bind a Unix path as the path's own problem, never as a port's:
 * a missing directory, a path under a file that is not a directory, a directory this user may not
 * write in. libuv reports a missing directory as EACCES (as Windows would), so EACCES looks again.
 */
export async function unixListenError(address: UnixAddress, err: unknown): Promise<SockkitError> {
  const url = formatAddress(address);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (address.abstract || (errno !== 'EACCES' && errno !== 'ENOENT' && errno !== 'ENOTDIR')) {
    return fromSystemError('listen', url, err);
  }
  const folder = dirname(address.path);
  const why = await stat(folder).then(
    (stats) => (stats.isDirectory() ? undefined : 'ENOTDIR'),
    (statErr: NodeJS.ErrnoException) => statErr.code,
  );
  if (why === 'ENOENT') {
    return new AddressNotAvailableError('listen', url, `no such directory: ${folder}`, { cause: err });
  }
  if (why === 'ENOTDIR' || errno === 'ENOTDIR') {
    const file = await firstNonDirectory(folder);
    return new AddressNotAvailableError('listen', url, `not a directory: ${file}`, { cause: err });
  }
  if (errno === 'EACCES') {
    return new PermissionDeniedError(
      'listen',
      url,
      `permission denied (this user may not create files in ${folder})`,
      { cause: err },
    );
  }
  return fromSystemError('listen', url, err);
}

/** probe connects to the socket at `path` and resolves with the errno that refused it, or undefined if it was accepted. */
function probe(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'an unknown error'));
  });
}

/** firstNonDirectory finds the first of `folder` and its ancestors, from the root down, that exists and is not a directory. */
async function firstNonDirectory(folder: string): Promise<string> {
  const chain: string[] = [];
  for (let at = folder; ; at = dirname(at)) {
    chain.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const candidate of chain) {
    const isDirectory = await stat(candidate).then(
      (stats) => stats.isDirectory(),
      () => true,
    );
    if (!isDirectory) return candidate;
  }
  return folder;
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFile()) return 'a regular file';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'a file that is not a socket';
}

function inUse(address: UnixAddress, why: string): SockkitError {
  return new AddressInUseError('listen', formatAddress(address), `address already in use (${why})`);
}

function inTheWay(address: UnixAddress, what: string): SockkitError {
  return new AddressInUseError('listen', formatAddress(address), `${what} is in the way; it was left alone`);
}
