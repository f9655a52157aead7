import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { CLI, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

/** untilStderr resolves once the process's stderr so far matches `pattern`. */
function untilStderr(
  running: { child: { stderr: NodeJS.ReadableStream | null }; stderr(): string },
  pattern: RegExp,
) {
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (!pattern.test(running.stderr())) return;
      running.child.stderr?.off('data', check);
      resolve();
    };
    running.child.stderr?.on('data', check);
    check();
  });
}

/**
 * PTY_HOLDER runs a command on a new pseudo-terminal, as an SSH session does: stdin, stdout and
 * stderr are the terminal. It prints the command's `listening on` line, closes the terminal when
 * told (a line on its stdin) so the kernel sends SIGHUP, and prints how the command ended.
 */
const PTY_HOLDER = `
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b''
while b'listening on' not in seen:
    seen += os.read(fd, 4096)
line = seen[seen.index(b'listening on'):].split(b'\\r')[0].split(b'\\n')[0]
print(line.decode(), flush=True)
sys.stdin.readline()
os.close(fd)
_, status = os.waitpid(pid, 0)
print(f'exit {os.WEXITSTATUS(status)}' if os.WIFEXITED(status) else f'signal {os.WTERMSIG(status)}', flush=True)
`;

/** echoServer is a plain Node echo server on a free loopback port. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** spawnCli starts `sockkit ARGS` with stdin left open, and collects what it prints until it exits. */
function spawnCli(args: readonly string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

describe('SIGHUP (a terminal or SSH session closing)', () => {
  test('a server shuts down gracefully: a transfer under way completes, the socket file goes, exit 0', {
    timeout: 9000,
  }, async () => {
    const path = join(dir.path, 'hup-echo.sock');
    const server = await startCli(['echo', `unix:${path}`, '--grace', '5s']);
    const client = connect(path);
    const echoed: Buffer[] = [];
    client.on('data', (chunk: Buffer) => echoed.push(chunk));
    let failure: Error | undefined;
    client.on('error', (err) => {
      failure = err;
    });
    const closed = once(client, 'close');
    const first = randomBytes(256 * 1024);
    const second = randomBytes(256 * 1024);
    client.write(first);
    await once(client, 'data');

    server.child.kill('SIGHUP');
    await untilStderr(server, /shutting down/);
    // The transfer goes on after the signal, within the grace period.
    client.end(second);
    await closed;
    const result = await server.done;
    assert.equal(failure, undefined, 'the client saw no error');

    assert.ok(Buffer.concat(echoed).equals(Buffer.concat([first, second])), 'the whole echo came back');
    assert.equal(result.signal, null, 'not killed by the signal');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /served 1 connection/);
    assert.equal(existsSync(path), false, 'the socket file is removed');
  });

  test('a server whose terminal hangs up (python3 holds the pty, then closes it) finishes the transfer and exits 0', {
    timeout: 9000,
  }, async () => {
    const path = join(dir.path, 'hup-pty.sock');
    const terminal = spawn('python3', ['-c', PTY_HOLDER, process.execPath, CLI, 'echo', `unix:${path}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const said: string[] = [];
    const lines = createInterface({ input: terminal.stdout });
    const nextLine = (): Promise<string> =>
      new Promise((resolve) => {
        const shift = (): void => {
          const line = said.shift();
          if (line !== undefined) resolve(line);
          else lines.once('line', () => shift());
        };
        shift();
      });
    lines.on('line', (line) => said.push(line));
    assert.match(await nextLine(), /^listening on unix:/);

    const client = connect(path);
    const echoed: Buffer[] = [];
    client.on('data', (chunk: Buffer) => echoed.push(chunk));
    let failure: Error | undefined;
    client.on('error', (err) => {
      failure = err;
    });
    const closed = once(client, 'close');
    const first = randomBytes(256 * 1024);
    const second = randomBytes(256 * 1024);
    client.write(first);
    await once(client, 'data');
    terminal.stdin.end('hang up\n');
    client.end(second);
    await closed;
    const status = await nextLine();

    assert.equal(failure, undefined, 'the client saw no error');
    assert.ok(Buffer.concat(echoed).equals(Buffer.concat([first, second])), 'the whole echo came back');
    assert.equal(status, 'exit 0', 'exit 0: not killed by SIGHUP, no abort from a terminal that is gone');
    assert.equal(existsSync(path), false, 'the socket file is removed');
  });

  // Every command that serves until a signal treats SIGHUP as it treats SIGTERM.
  const servers: [string, (path: string) => string[]][] = [
    ['serve daytime', (path) => ['serve', 'daytime', `unix:${path}`, 'udp://127.0.0.1:0']],
    ['listen --keep-open', (path) => ['listen', `unix:${path}`, '--keep-open']],
    ['listen', (path) => ['listen', `unix:${path}`]],
    ['chat serve', (path) => ['chat', 'serve', `unix:${path}`]],
  ];
  for (const [name, args] of servers) {
    test(`\`sockkit ${name}\` exits 0 on SIGHUP, as on SIGTERM, and removes its socket file`, {
      timeout: 9000,
    }, async () => {
      const path = join(dir.path, `hup-${name.replace(/\W+/g, '-')}.sock`);
      const server = await startCli(args(path), { stdin: 'pipe' });
      assert.equal(existsSync(path), true);
      const result = await server.stop('SIGHUP');
      assert.equal(result.signal, null, 'not killed by the signal');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(existsSync(path), false, 'the socket file is removed');
    });
  }

  test('`sockkit echo --workers 2` exits 0 on SIGHUP, its workers shut down gracefully', {
    timeout: 9000,
  }, async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', '--workers', '2']);
    const result = await server.stop('SIGHUP');
    assert.equal(result.signal, null, 'not killed by the signal');
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /^sockkit: served \d+ connections?, .*\(2 workers\)$/m,
      'one summary for both workers',
    );
  });

  test('`sockkit bench` stops on SIGHUP with its report, as on SIGINT', { timeout: 9000 }, async () => {
    const echo = await echoServer();
    const bench = spawnCli(['bench', `tcp://127.0.0.1:${echo.port}`, '-t', '60s', '--json']);
    // One JSON line a second: the first says the run is under way.
    await once(bench.child.stdout as NodeJS.ReadableStream, 'data');
    bench.child.kill('SIGHUP');
    const result = await bench.done;
    echo.server.close();
    assert.equal(result.signal, null, 'not killed by the signal');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"type":"summary"/);
  });

  test('a client (`sockkit connect`) ends at once on SIGHUP, as netcat does: killed by the signal', {
    timeout: 9000,
  }, async () => {
    const echo = await echoServer();
    const connected = once(echo.server, 'connection');
    const client = spawnCli(['connect', `tcp://127.0.0.1:${echo.port}`]);
    await connected;
    client.child.kill('SIGHUP');
    const result = await client.done;
    echo.server.close();
    assert.equal(result.code, null);
    assert.equal(result.signal, 'SIGHUP', 'the shell reports 128 + 1 = 129');
  });
});
