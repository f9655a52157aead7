import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers.js';

const skip = process.getuid?.() === 0 ? false : 'needs root: resolves localhost through a private /etc/hosts';

/** echoOn listens on `host`:`port` (0: any) and counts the connections it accepts. */
async function echoOn(
  host: string,
  port = 0,
): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

describe('bench -4 and -6', { timeout: 30_000, skip }, () => {
  const dir = tempDir();
  after(() => dir.remove());

  /**
   * benchLocalhost runs `bench tcp://localhost:PORT ARGS` in a private mount namespace whose
   * /etc/hosts lists `hosts` (localhost as both loopback addresses, in that order), and echo
   * servers on both loopback addresses at one port: it says which of them the connections reached.
   */
  async function benchLocalhost(hosts: string, args: readonly string[]): Promise<{ v4: number; v6: number }> {
    const file = join(dir.path, `hosts-${args.join('')}`);
    writeFileSync(file, hosts);
    const v6 = await echoOn('::1');
    const v4 = await echoOn('127.0.0.1', v6.port);
    try {
      const result = await runCli(['bench', `tcp://localhost:${v6.port}`, '-t', '300ms', ...args], {
        wrapper: ['unshare', '--mount', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', file],
      });
      assert.equal(result.code, 0, result.stderr);
      return { v4: v4.accepted(), v6: v6.accepted() };
    } finally {
      v4.server.close();
      v6.server.close();
    }
  }

  test('-6 reaches the server on ::1 only, though localhost names 127.0.0.1 first', async () => {
    const reached = await benchLocalhost('127.0.0.1 localhost\n::1 localhost\n', ['-6', '-c', '3']);
    assert.deepEqual(reached, { v4: 0, v6: 3 });
  });

  test('-4 reaches the server on 127.0.0.1 only, from every worker thread', async () => {
    const reached = await benchLocalhost('::1 localhost\n127.0.0.1 localhost\n', [
      '-4',
      '-c',
      '4',
      '--threads',
      '2',
    ]);
    assert.deepEqual(reached, { v4: 4, v6: 0 });
  });

  test('-4 with -6 is a usage error, and so is -6 on a unix: address', async () => {
    const [both, unix] = await Promise.all([
      runCli(['bench', 'tcp://localhost:9', '-4', '-6']),
      runCli(['bench', 'unix:/tmp/nothing.sock', '-6']),
    ]);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'sockkit: bench: -4 and -6 exclude each other\n');
    assert.equal(unix.code, 2);
    assert.match(unix.stderr, /^sockkit: bench: -6 applies to tcp:\/\/, tls:\/\/ or udp:\/\/ addresses only/);
  });
});
