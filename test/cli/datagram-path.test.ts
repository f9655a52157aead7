/**
 * `-v` on a command that opens UDP sockets through PacketConn says once which datagram path they
 * take and why: native batch, or dgram because of SOCKKIT_NATIVE=0, --trace, or an addon that
 * did not load.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { datagramPath } from '../../src/datagram/native-io.js';
import { type CliLaunch, runCli, startCli } from '../helpers.js';

const HIDE_ADDON = fileURLToPath(new URL('./hide-udp-batch.js', import.meta.url));
const NATIVE = 'datagram path: native batch (recvmmsg/sendmmsg, 64 per call)';
const native = datagramPath({}).native;
const PATH_LINE = /^datagram path: .*$/gm;

/** pathLinesOfServer runs a server command until it has said its path, stops it, and returns the path lines. */
async function pathLinesOfServer(
  args: readonly string[],
  launch: CliLaunch & { listens?: number } = {},
): Promise<string[]> {
  const server = await startCli(args, launch);
  try {
    await server.waitFor(/^datagram path: .*$/m);
  } finally {
    await server.stop();
  }
  return server.stderr().match(PATH_LINE) ?? [];
}

/** pathLinesOfClient runs a client command to its end and returns the path lines. */
async function pathLinesOfClient(args: readonly string[], launch: CliLaunch & { input?: string } = {}) {
  const result = await runCli(args, launch);
  return result.stderr.match(PATH_LINE) ?? [];
}

test('under -v, every UDP command says its datagram path once', {
  timeout: 9000,
  skip: !native && 'the addon did not build here',
}, async () => {
  const [echo, serve, listen, forward, connect, send, bench] = await Promise.all([
    pathLinesOfServer(['echo', 'udp://127.0.0.1:0', '-v']),
    pathLinesOfServer(['serve', 'echo', 'udp://127.0.0.1:0', 'udp://[::1]:0', '-v'], {
      listens: 2,
    } as CliLaunch),
    pathLinesOfServer(['listen', 'udp://127.0.0.1:0', '-v']),
    pathLinesOfServer(['forward', 'udp://127.0.0.1:0', 'udp://127.0.0.1:9', '-v']),
    pathLinesOfClient(['connect', 'udp://127.0.0.1:9', '-v', '--linger', '100ms'], { input: 'hi\n' }),
    pathLinesOfClient(['send', 'udp://127.0.0.1:9', 'hi', '-v', '--retries', '0', '-w', '200ms']),
    pathLinesOfClient(['bench', 'udp://127.0.0.1:9', '-v', '-t', '200ms']),
  ]);
  assert.deepEqual(
    { echo, serve, listen, forward, connect, send, bench },
    {
      echo: [NATIVE],
      serve: [NATIVE],
      listen: [NATIVE],
      forward: [NATIVE],
      connect: [NATIVE],
      send: [NATIVE],
      bench: [NATIVE],
    },
  );
});

test('SOCKKIT_NATIVE=0 is the reason a socket takes dgram', { timeout: 9000 }, async () => {
  const lines = await pathLinesOfServer(['echo', 'udp://127.0.0.1:0', '-v'], {
    env: { ...process.env, SOCKKIT_NATIVE: '0' },
  });
  assert.deepEqual(lines, ['datagram path: dgram (SOCKKIT_NATIVE=0)']);
});

test('a traced socket takes dgram, which narrates each datagram', { timeout: 9000 }, async () => {
  const lines = await pathLinesOfClient([
    '--trace',
    'send',
    'udp://127.0.0.1:9',
    'hi',
    '-v',
    '--retries',
    '0',
  ]);
  assert.deepEqual(lines, ['datagram path: dgram (traced)']);
});

test('without the addon, dgram says the addon did not load, and how to build it', {
  timeout: 9000,
}, async () => {
  const lines = await pathLinesOfServer(['listen', 'udp://127.0.0.1:0', '-v'], {
    nodeArgs: ['--import', HIDE_ADDON],
  });
  assert.deepEqual(lines, [
    'datagram path: dgram (the addon did not load: the optional sockkit-udp-batch is not installed or did not build (MODULE_NOT_FOUND); install a C compiler, make and python3, then run `npm rebuild sockkit-udp-batch`)',
  ]);
});

test('without -v nothing is said; -v for a stream address is refused as a udp flag', {
  timeout: 9000,
}, async () => {
  assert.deepEqual(await pathLinesOfClient(['send', 'udp://127.0.0.1:9', 'hi', '--retries', '0']), []);
  const refused = await runCli(['echo', 'tcp://127.0.0.1:0', '-v']);
  assert.equal(refused.code, 2);
  assert.equal(refused.stderr, 'sockkit: echo: -v applies to udp:// addresses only, not tcp://127.0.0.1:0\n');
});
