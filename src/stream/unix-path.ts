/**
 * Unix socket files outlive a server that crashed. Before binding a path, sockkit tells a stale
 * file (nobody accepts on it) from a live one (a server answers): the first is replaced, the
 * second is "address already in use", as for a TCP port.
 */
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';

/**
 * prepareUnixPath makes `path` ready to bind: it removes a stale socket file and rejects with
 * EADDRINUSE when a live server holds it, or when a file that is not a socket is in the way.
 */
export async function prepareUnixPath(path: string): Promise<void> {
  const stats = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!stats) return;
  if (!stats.isSocket()) throw failure('EEXIST', `${path} exists and is not a socket`);
  if (await isLive(path)) throw failure('EADDRINUSE', 'a server is accepting on it');
  await unlink(path);
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    // ECONNREFUSED: the file is left from a server that is gone.
    probe.once('error', () => resolve(false));
  });
}

function failure(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}
