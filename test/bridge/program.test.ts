/**
 * Programs as endpoints, read as a specification: the environment, end-of-file both ways, a
 * program that exits early, one that never reads, the end of the connection first, and reaping.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { programOf } from '../../src/bridge/endpoint.js';
import { join } from '../../src/bridge/join.js';
import { programEnv, startProgram } from '../../src/bridge/program.js';
import { connSide } from '../../src/bridge/side.js';
import { MiB } from '../../src/units.js';
import { pair } from '../stream/pair.js';
import { readAll, sendAll } from './peers.js';

/** bridged joins the server end of a fresh loopback connection to `command` (sh: when `shell`). */
async function bridged(command: string, shell: boolean, grace?: number) {
  const { client, server } = await pair();
  const program = await startProgram(programOf(command, shell), { connection: server, grace });
  const stop = new AbortController();
  const joined = join(connSide(server, 'client'), program, { signal: stop.signal });
  return { client, server, program, joined, stop: () => stop.abort() };
}

/** isZombie tells whether `pid` is a process left unreaped (state Z); a reaped one has no /proc entry. */
function isZombie(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  return readFileSync(stat, 'utf8').split(') ')[1]?.startsWith('Z') === true;
}

describe('programEnv', () => {
  test('names both addresses under sockkit and ncat names', () => {
    assert.deepEqual(
      programEnv({
        localAddress: { scheme: 'tcp', host: '127.0.0.1', port: 9000 },
        remoteAddress: { scheme: 'tcp', host: '127.0.0.1', port: 52000 },
      }),
      {
        SOCKKIT_LOCAL_ADDR: '127.0.0.1',
        SOCKKIT_LOCAL_PORT: '9000',
        SOCKKIT_REMOTE_ADDR: '127.0.0.1',
        SOCKKIT_REMOTE_PORT: '52000',
        SOCKKIT_PROTO: 'tcp',
        NCAT_LOCAL_ADDR: '127.0.0.1',
        NCAT_LOCAL_PORT: '9000',
        NCAT_REMOTE_ADDR: '127.0.0.1',
        NCAT_REMOTE_PORT: '52000',
        NCAT_PROTO: 'TCP',
      },
    );
  });

  test('a Unix socket has its path and no ports', () => {
    const env = programEnv({
      localAddress: { scheme: 'unix', path: '/tmp/a.sock', abstract: false },
      remoteAddress: { scheme: 'unix', path: '', abstract: false },
    });
    assert.equal(env.SOCKKIT_LOCAL_ADDR, '/tmp/a.sock');
    assert.equal(env.NCAT_PROTO, 'UNIX');
    assert.equal(env.SOCKKIT_LOCAL_PORT, undefined);
  });
});

describe('startProgram joined to a connection', () => {
  test('the program reads EOF when the client half-closes, and its answer still arrives', {
    timeout: 10_000,
  }, async () => {
    const { client, program, joined } = await bridged('wc -c; echo "$SOCKKIT_REMOTE_ADDR"', true);
    const pid = program.child.pid as number;
    await sendAll(client, Buffer.alloc(123_456, 7));
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk);
    client.close();
    assert.deepEqual(Buffer.concat(chunks).toString().trim().split('\n'), ['123456', '127.0.0.1']);
    const summary = await joined;
    assert.equal(summary.complete, true);
    assert.deepEqual(await program.exited, { code: 0, signal: null });
    assert.equal(isZombie(pid), false);
  });

  test('a program that exits early: the client reads its output, then EOF, and may keep sending', {
    timeout: 10_000,
  }, async () => {
    const { client, program, joined } = await bridged('echo bye', true);
    const got = await readAll(client);
    assert.equal(got.length, 4, '"bye\\n", then the end');
    assert.deepEqual(await program.exited, { code: 0, signal: null });
    // Its stdin is gone: what the client still sends is read and dropped, not a reset.
    await sendAll(client, Buffer.alloc(4 * MiB));
    const summary = await joined;
    client.close();
    assert.equal(summary.complete, true);
    assert.equal(summary.bytesAToB, 4 * MiB);
  });

  test('a program that never reads: the client is held back and the bridge buffers little', {
    timeout: 15_000,
  }, async () => {
    // It reads 1 MB, says so, then nobody reads its stdin (sleep inherits it and ignores it).
    const { client, server, program, joined, stop } = await bridged(
      'head -c 1000000 >/dev/null; echo read; exec sleep 30',
      true,
      100,
    );
    const flood = Buffer.alloc(64 * MiB);
    client.write(flood);
    for await (const chunk of client) if (chunk.toString().includes('read')) break;
    // An observation window: without backpressure the bridge would read all 64 MiB in it.
    await delay(500);
    assert.ok(server.bytesReceived < 16 * MiB, `the bridge read ${server.bytesReceived} bytes of 64 MiB`);
    assert.ok(
      program.writable.writableLength <= 1 * MiB,
      `${program.writable.writableLength} bytes queued for the program`,
    );
    assert.ok(client.socket.writableLength > 32 * MiB, 'the rest waits at the client');
    // While its reads are paused, nothing tells the bridge of the client leaving (the kernel is
    // not asked): a server ends it by its signal or its idle timeout, as here.
    stop();
    client.close();
    const summary = await joined;
    assert.equal(summary.complete, false);
    const exit = await program.exited;
    assert.equal(exit.signal, 'SIGTERM', 'stdin closed, then SIGTERM after the grace');
  });

  test('the connection ends first: the program gets its stdin closed, and exits by itself if it can', {
    timeout: 10_000,
  }, async () => {
    const { client, program, joined } = await bridged('cat', false);
    await client.send('some bytes');
    for await (const _ of client) break;
    client.socket.resetAndDestroy();
    await joined;
    assert.deepEqual(
      await program.exited,
      { code: 0, signal: null },
      'cat read EOF and exited, no signal needed',
    );
  });

  test('a program that cannot start is an IoError naming it', { timeout: 5000 }, async () => {
    await assert.rejects(startProgram(programOf('no-such-program-sockkit --x', false)), {
      name: 'IoError',
      message: 'exec exec:no-such-program-sockkit --x: no such program (not found in PATH)',
    });
  });
});
