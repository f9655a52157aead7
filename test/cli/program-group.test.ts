/**
 * The program of `--exec`/`--sh`, and of an `exec:`/`sh:` endpoint of `relay` or `forward`, runs
 * in a process group of its own; whatever way sockkit ends short of its own SIGKILL (a second
 * Ctrl-C, the grace over), nothing of that group outlives it, not even a program that ignores
 * SIGTERM and never reads.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { hostPort, type Running, startCli } from '../helpers.js';

/** STUBBORN prints its process group (the shell leads it), then ignores SIGTERM and never reads. */
const STUBBORN = 'echo $$; trap "" TERM; sleep 1000';

/** runningIn lists the processes of group `pgid` that still run (a zombie has ended: it only waits to be reaped). */
function runningIn(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fields: string[];
    try {
      fields = (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    } catch {
      continue; // it ended while we looked
    }
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) found.push(Number(entry));
  }
  return found;
}

/** groupExists is `kill -0 -PGID`: true while any process, running or not yet reaped, is in the group. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * expectGroupGone checks that group `pgid` ends, and ends it whatever the answer, so that a
 * failing run leaves no `sleep 1000` behind. A SIGKILL sent as sockkit exited takes effect when
 * the kernel next runs the target: the check gives it up to 2 s (a bounded wait, no event to wait on).
 */
async function expectGroupGone(pgid: number): Promise<void> {
  try {
    for (let i = 0; runningIn(pgid).length > 0 && i < 100; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(runningIn(pgid), [], `group ${pgid} still runs`);
    // kill -0: what is left of it (if anything) is zombies waiting for init to reap them.
    if (groupExists(pgid)) assert.deepEqual(runningIn(pgid), []);
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone: the expected case.
    }
  }
}

/** firstLine resolves with the first line `socket` receives, and leaves the socket open. */
function firstLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (!text.includes('\n')) return;
      socket.off('data', onData).off('close', onClose);
      resolve(text.split('\n')[0] as string);
    };
    const onClose = (): void =>
      reject(new Error(`the connection closed before a line: ${JSON.stringify(text)}`));
    socket.on('data', onData).once('close', onClose);
  });
}

/** exitOf resolves with how `child` exits (not waiting for its output pipes, which a leftover program would hold). */
async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { code, signal };
}

/**
 * twoInterrupts sends SIGINT to `sockkit`, waits until the first has closed `peer` (the
 * graceful part began), sends a second, and returns how sockkit exited.
 */
async function twoInterrupts(sockkit: Running, peer: Socket): Promise<{ code: number | null }> {
  const closed = once(peer, 'close');
  sockkit.child.kill('SIGINT');
  await closed;
  sockkit.child.kill('SIGINT');
  return exitOf(sockkit.child);
}

describe('a program that ignores SIGTERM and never reads ends with sockkit', () => {
  for (const keepOpen of [false, true]) {
    const args = keepOpen ? ['-k'] : [];
    const command = ['listen', ...args, '--sh'].join(' ');
    test(`${command}: after two SIGINTs sockkit exits 130 and the program's group is gone`, {
      timeout: 10_000,
    }, async () => {
      const sockkit = await startCli(['listen', 'tcp://127.0.0.1:0', ...args, '--sh', STUBBORN]);
      const { port } = hostPort(sockkit.urls[0] as string);
      const client = connect(port, '127.0.0.1');
      const pgid = Number(await firstLine(client));
      assert.ok(pgid > 1, 'the program said its group');
      const exit = await twoInterrupts(sockkit, client);
      assert.equal(exit.code, 130);
      await expectGroupGone(pgid);
    });
  }

  const clients: [string, (target: string) => string[]][] = [
    ['connect --sh', (target) => ['connect', target, '--sh', STUBBORN]],
    ['relay TCP sh:', (target) => ['relay', target, `sh:${STUBBORN}`]],
  ];
  for (const [command, argsFor] of clients) {
    test(`${command}: after two SIGINTs sockkit exits 130 and the program's group is gone`, {
      timeout: 10_000,
    }, async () => {
      const server: Server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as { port: number };
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      const sockkit = await startCli(argsFor(`tcp://127.0.0.1:${port}`), { listens: 0 });
      const [peer] = await accepted;
      try {
        const pgid = Number(await firstLine(peer));
        const exit = await twoInterrupts(sockkit, peer);
        assert.equal(exit.code, 130);
        await expectGroupGone(pgid);
      } finally {
        server.close();
      }
    });
  }

  test("forward to sh:, a client in its grace: after two SIGINTs sockkit exits 130 and the program's group is gone", {
    timeout: 10_000,
  }, async () => {
    const sockkit = await startCli(['forward', 'tcp://127.0.0.1:0', `sh:${STUBBORN}`, '--grace', '30s']);
    const { port } = hostPort(sockkit.urls[0] as string);
    const client = connect(port, '127.0.0.1');
    const pgid = Number(await firstLine(client));
    assert.ok(pgid > 1, 'the program said its group');
    sockkit.child.kill('SIGINT');
    await sockkit.waitFor(/Ctrl-C again to force/);
    sockkit.child.kill('SIGINT');
    const exit = await exitOf(sockkit.child);
    client.destroy();
    assert.equal(exit.code, 130);
    await expectGroupGone(pgid);
  });

  test("listen --sh: one SIGINT, and when the grace is over the program's group is killed before sockkit exits", {
    timeout: 10_000,
  }, async () => {
    const sockkit = await startCli(['listen', 'tcp://127.0.0.1:0', '--sh', STUBBORN]);
    const { port } = hostPort(sockkit.urls[0] as string);
    const client = connect(port, '127.0.0.1');
    const pgid = Number(await firstLine(client));
    sockkit.child.kill('SIGINT');
    const exit = await exitOf(sockkit.child);
    assert.equal(exit.code, 0, 'a server stopped by SIGINT after a clean shutdown');
    assert.deepEqual(runningIn(pgid), [], 'nothing of the group runs once sockkit has exited');
    await expectGroupGone(pgid);
  });
});
