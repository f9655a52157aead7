/**
 * Running the CLI as an unprivileged user (65534, "nobody") from a root test run: what tests of
 * permission failures (raw sockets, a Unix socket in someone else's folder) need.
 */
import { spawnSync } from 'node:child_process';
import { CLI } from './helpers.js';

/** NOBODY are setpriv's flags to become user and group 65534 with no supplementary groups. */
export const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** whyNoNobody says why the CLI cannot be run as user 65534 here, or undefined when it can. */
export function whyNoNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to switch to an unprivileged user';
  const probe = spawnSync(
    'setpriv',
    [...NOBODY, process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(CLI)}, 4)`],
    { stdio: 'ignore' },
  );
  if (probe.error) return 'needs setpriv (util-linux)';
  if (probe.status !== 0) return `user 65534 cannot read ${CLI} (make the checkout world-readable)`;
  return undefined;
}
