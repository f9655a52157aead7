/**
 * `listen --exec/--sh` and `connect --exec/--sh`, as ncat's `-e` and `-c`, with socat and ncat as
 * clients: end-of-file both ways, one child per client with --keep-open, no zombie left.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runPeer, sha256 } from '../bridge/peers.js';
import { hostPort, runCli, startCli } from '../helpers.js';

/** zombiesOf lists the children of `pid` that have exited but were not reaped (state Z). */
function zombiesOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = `/proc/${entry}/stat`;
    if (!existsSync(stat)) continue;
    let fields: string[];
    try {
      fields = (readFileSync(stat, 'utf8').split(') ')[1] ?? '').split(' ');
    } catch {
      continue; // it exited while we looked
    }
    if (fields[0] === 'Z' && Number(fields[1]) === pid) found.push(Number(entry));
  }
  return found;
}

describe('listen --exec and --sh', () => {
  test('listen --exec cat gives socat and ncat clients their bytes back, then EOF', {
    timeout: 10_000,
  }, async () => {
    const data = randomBytes(1024 * 1024);
    for (const peer of ['socat', 'ncat']) {
      const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--exec', 'cat']);
      const { port } = hostPort(server.urls[0] as string);
      const run =
        peer === 'socat'
          ? await runPeer('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], data)
          : await runPeer('ncat', ['127.0.0.1', String(port)], data);
      assert.equal(run.code, 0, `${peer}: ${run.stderr}`);
      assert.equal(sha256(run.stdout), sha256(data), `${peer} got its bytes back`);
      const done = await server.done;
      assert.equal(done.code, 0, `listen exits once its one client is done: ${done.stderr}`);
    }
  });

  test("--sh 'wc -c' answers after the client's EOF", { timeout: 10_000 }, async () => {
    const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--sh', 'wc -c']);
    const result = await runCli(['connect', server.urls[0] as string], { input: Buffer.alloc(54_321) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString().trim(), '54321');
    assert.equal((await server.done).code, 0);
  });

  test('a child that exits early: the client reads its output and EOF, though it had more to send', {
    timeout: 10_000,
  }, async () => {
    const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--exec', "printf 'early\\n'"]);
    const { port } = hostPort(server.urls[0] as string);
    const run = await runPeer(
      'socat',
      ['-t', '5', '-', `TCP:127.0.0.1:${port}`],
      randomBytes(2 * 1024 * 1024),
    );
    assert.equal(run.stdout.toString(), 'early\n');
    assert.equal((await server.done).code, 0);
  });

  test('--keep-open: 50 clients each get a child of their own, and none is left a zombie', {
    timeout: 10_000,
  }, async () => {
    const server = await startCli([
      'listen',
      'tcp://127.0.0.1:0',
      '-k',
      '--sh',
      'echo "$$ $SOCKKIT_REMOTE_PORT"; cat',
    ]);
    const url = server.urls[0] as string;
    const { port } = hostPort(url);
    const runs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        runPeer('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], `client ${i}\n`, 20_000),
      ),
    );
    const pids = new Set<string>();
    for (const [i, run] of runs.entries()) {
      const [first, second] = run.stdout.toString().split('\n');
      assert.equal(second, `client ${i}`, 'its own bytes back through its own cat');
      pids.add(first?.split(' ')[0] ?? '');
    }
    assert.equal(pids.size, 50, 'fifty processes');
    // The last children may be exiting right now: they are reaped within a moment, never left.
    const serverPid = server.child.pid as number;
    for (let i = 0; zombiesOf(serverPid).length > 0 && i < 100; i += 1)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(zombiesOf(serverPid), []);
    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0, stopped.stderr);
  });

  test('a shell on a listener other hosts can reach prints one warning naming the risk', {
    timeout: 10_000,
  }, async () => {
    const server = await startCli(['listen', 'tcp://0.0.0.0:0', '-k', '--sh', 'cat']);
    const stopped = await server.stop('SIGTERM');
    const warnings = stopped.stderr.split('\n').filter((l) => l.includes('warning'));
    assert.equal(warnings.length, 1, stopped.stderr);
    assert.match(
      warnings[0] as string,
      /tcp:\/\/0\.0\.0\.0:\d+ is reachable from other hosts and runs a shell \(sh:cat\) for each client: anyone who connects can run commands as this user/,
    );
    const quiet = await startCli(['listen', 'tcp://127.0.0.1:0', '-k', '--sh', 'cat']);
    assert.doesNotMatch((await quiet.stop('SIGTERM')).stderr, /warning/, 'none on loopback');
  });

  test('a program that cannot start: one line naming it, exit 1', { timeout: 10_000 }, async () => {
    const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--exec', 'no-such-program-sockkit']);
    const client = await runCli(['connect', server.urls[0] as string], { input: 'hi' });
    assert.equal(client.stdout.length, 0);
    const done = await server.done;
    assert.equal(done.code, 1);
    assert.equal(
      done.stderr.replace(/^listening on .*\n/, ''),
      'sockkit: exec exec:no-such-program-sockkit: no such program (not found in PATH)\n',
    );
  });

  test('usage errors exit 2 with one line', { timeout: 10_000 }, async () => {
    const cases = [
      ['listen', 'udp://127.0.0.1:0', '--exec', 'cat'],
      ['listen', 'tcp://127.0.0.1:0', '--exec', 'cat', '--sh', 'cat'],
      ['listen', 'tcp://127.0.0.1:0', '--exec', "echo 'unclosed"],
    ];
    // Run at once: each is a process start, and the machine may be busy.
    const results = await Promise.all(cases.map((args) => runCli(args, { timeout: 9000 })));
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, `${cases[i]?.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});

describe('connect --exec and --sh', () => {
  test("the server's bytes go to the program, and the program's output to the server", {
    timeout: 10_000,
  }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    // The program says hello, closes its output (the server sees EOF), then reads the echo.
    const result = await runCli([
      'connect',
      echo.urls[0] as string,
      '--sh',
      'printf hello; exec 1>&-; cat >&2',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, 'hello');
    await echo.stop();
  });
});
