/**
 * Attacks on a Unix listener's stale-socket check and on the limits of Unix addresses. Before
 * binding a path, a listener replaces a socket file nobody accepts on; anything else in the way
 * (a live server whose accept queue is full, a socket this user may not connect to, a symbolic
 * link, a FIFO, a directory, a regular file) is refused with a message naming it, and left alone.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { CLI, type CliResult, runCli, runProgram, tempDir } from '../helpers.js';
import { NOBODY, whyNoNobody } from '../nobody.js';

const dir = tempDir();
// User 65534 must reach the folders made below.
chmodSync(dir.path, 0o755);
after(() => dir.remove());

/** asNobody runs `sockkit ARGS` as user 65534, killed after 5 s. */
function asNobody(args: readonly string[]): Promise<CliResult> {
  return runProgram('setpriv', [...NOBODY, process.execPath, CLI, ...args], 5000);
}

/**
 * pythonServer runs a Python Unix stream server on `path` that never accepts, and resolves once
 * it printed its first line. With `fill`, it first fills its own accept queue (listen(0), then
 * non-blocking connects until one fails with EAGAIN: at most 64). It holds everything until stop().
 */
function pythonServer(path: string, fill: boolean): Promise<{ line: string; stop: () => Promise<void> }> {
  const script = `
import socket, sys
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(0)
clients = []
if sys.argv[2] == 'fill':
    for _ in range(64):
        c = socket.socket(socket.AF_UNIX)
        c.setblocking(False)
        try:
            c.connect(path)
        except BlockingIOError:
            c.close()
            break
        clients.append(c)
    else:
        sys.exit('the accept queue never filled')
print('ready', len(clients), flush=True)
sys.stdin.read()
`;
  const child: ChildProcess = spawn('python3', ['-c', script, path, fill ? 'fill' : 'no'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.stdin?.end();
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve({ line: out.trim(), stop });
    });
    child.once('exit', (code) => reject(new Error(`python3 exited early (${code})`)));
  });
}

/** oneLine asserts a CLI run failed with exit `code` and one line on stderr, and returns that line. */
function oneLine(result: CliResult, code: number): string {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  return lines[0] as string;
}

describe('the stale-socket check takes over only a socket nobody accepts on', () => {
  test('a live server whose accept queue is full is not taken over', { timeout: 9000 }, async () => {
    const path = join(dir.path, 'full-queue.sock');
    const server = await pythonServer(path, true);
    try {
      assert.match(server.line, /^ready [1-9]\d*$/);
      const inode = lstatSync(path).ino;
      await assert.rejects(listen(parseAddress(`unix:${path}`)), {
        code: 'ERR_ADDRESS_IN_USE',
        message: `listen unix:${path}: address already in use (a server holds it; its accept queue is full)`,
      });
      assert.equal(lstatSync(path).ino, inode, 'the live server keeps its socket file');
    } finally {
      await server.stop();
    }
  });

  test('a socket this user may not connect to is refused as permission denied, and left alone', {
    skip: whyNoNobody(),
    timeout: 9000,
  }, async () => {
    // A folder user 65534 may write in, so that nothing but the check stands in the way of an unlink.
    const open = join(dir.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const path = join(open, 'private.sock');
    const server = await pythonServer(path, false);
    try {
      chmodSync(path, 0o000);
      const inode = lstatSync(path).ino;
      const line = oneLine(await asNobody(['echo', `unix:${path}`]), 1);
      assert.equal(
        line,
        `sockkit: listen unix:${path}: permission denied (a socket file is there that this user may not connect to; it was left alone)`,
      );
      assert.equal(lstatSync(path).ino, inode, 'the socket file is still the server’s');
    } finally {
      await server.stop();
    }
  });

  test('a stale socket behind a symbolic link is refused, and neither is removed', async () => {
    const target = join(dir.path, 'target.sock');
    execFileSync('python3', [
      '-c',
      'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
      target,
    ]);
    const path = join(dir.path, 'link.sock');
    symlinkSync(target, path);
    await assert.rejects(listen(parseAddress(`unix:${path}`)), {
      code: 'ERR_ADDRESS_IN_USE',
      message: `listen unix:${path}: a symbolic link (to ${target}) is in the way; it was left alone`,
    });
    assert.ok(lstatSync(path).isSymbolicLink());
    assert.ok(lstatSync(target).isSocket());
  });

  const inTheWay: [string, string, (path: string) => void][] = [
    ['a FIFO (named pipe)', 'fifo', (path) => execFileSync('mkfifo', [path])],
    ['a directory', 'dir', (path) => mkdirSync(path)],
    ['a regular file', 'file', (path) => writeFileSync(path, 'precious')],
  ];
  for (const [what, name, make] of inTheWay) {
    test(`${what} in the way is refused by name, and left alone`, async () => {
      const path = join(dir.path, name);
      make(path);
      const before = lstatSync(path);
      await assert.rejects(listen(parseAddress(`unix:${path}`)), {
        code: 'ERR_ADDRESS_IN_USE',
        message: `listen unix:${path}: ${what} is in the way; it was left alone`,
      });
      assert.equal(lstatSync(path).ino, before.ino);
    });
  }

  test('the CLI names what is in the way and talks of no port', { timeout: 9000 }, async () => {
    const path = join(dir.path, 'cli-file');
    writeFileSync(path, 'precious');
    const line = oneLine(await runCli(['echo', `unix:${path}`], { timeout: 5000 }), 1);
    assert.equal(line, `sockkit: listen unix:${path}: a regular file is in the way; it was left alone`);
    assert.ok(existsSync(path));
  });
});

describe('Unix listen errors say what is wrong with the path', () => {
  test('a missing folder is named, and no port is mentioned', { timeout: 9000 }, async () => {
    const path = join(dir.path, 'missing', 'x.sock');
    const line = oneLine(await runCli(['echo', `unix:${path}`], { timeout: 5000 }), 1);
    assert.equal(line, `sockkit: listen unix:${path}: no such directory: ${join(dir.path, 'missing')}`);
  });

  test('a path under a regular file names the file that is not a directory', { timeout: 9000 }, async () => {
    const file = join(dir.path, 'plain');
    writeFileSync(file, '');
    const path = join(file, 'x.sock');
    const line = oneLine(await runCli(['echo', `unix:${path}`], { timeout: 5000 }), 1);
    assert.equal(line, `sockkit: listen unix:${path}: not a directory: ${file}`);
  });

  test('a folder this user may not write in is permission denied, naming it', {
    skip: whyNoNobody(),
    timeout: 9000,
  }, async () => {
    const closed = join(dir.path, 'closed');
    mkdirSync(closed);
    chmodSync(closed, 0o755);
    const path = join(closed, 'x.sock');
    const line = oneLine(await asNobody(['echo', `unix:${path}`]), 1);
    assert.equal(
      line,
      `sockkit: listen unix:${path}: permission denied (this user may not create files in ${closed})`,
    );
    assert.equal(existsSync(path), false);
  });
});

describe('Unix names over the kernel limit are usage errors', () => {
  const long = `sockkit-${'n'.repeat(120)}`;
  test('an abstract name over 107 bytes is refused by listen and dial alike, naming the limit', {
    timeout: 9000,
  }, async () => {
    for (const args of [
      ['echo', `unix:@${long}`],
      ['send', `unix:@${long}`, 'hi'],
    ]) {
      const line = oneLine(await runCli(args, { timeout: 5000 }), 2);
      assert.match(line, /abstract socket name of 128 bytes is over the limit of 107 bytes/);
    }
  });

  test('two names that differ only after byte 107 no longer collide: both are refused', () => {
    const stem = 'c'.repeat(107);
    for (const url of [`unix:@${stem}1`, `unix:@${stem}2`]) {
      assert.throws(() => parseAddress(url), { code: 'ERR_INVALID_ADDRESS' });
    }
  });

  test('an abstract name of exactly 107 bytes is bound whole and reachable', async () => {
    const name = `${process.pid}-`.padEnd(107, 'x');
    const listener = await listen(parseAddress(`unix:@${name}`));
    try {
      const accepted = listener.accept();
      const conn = await dial(parseAddress(`unix:@${name}`));
      (await accepted).close();
      conn.close();
    } finally {
      await listener.close();
    }
  });
});
