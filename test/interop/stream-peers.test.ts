/**
 * sockkit against stream peers nobody here wrote: Python's socket module (the introduction's own
 * echo client and server), socat and ncat, as clients of `sockkit echo` and as servers for
 * `sockkit connect` / `sockkit send`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const run = promisify(execFile);
const dir = tempDir();
after(() => dir.remove());

const has = async (tool: string): Promise<boolean> =>
  run('sh', ['-c', `command -v ${tool}`]).then(
    () => true,
    () => false,
  );
const skipUnless = async (tool: string): Promise<string | false> =>
  (await has(tool)) ? false : `${tool} is not installed (.ci/run installs it)`;

/** The introduction's echo client, verbatim but for the port. */
const pythonClient = `
import socket, sys
HOST = sys.argv[1]
PORT = int(sys.argv[2])
with socket.socket(socket.AF_INET6 if ":" in HOST else socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    s.sendall(b"Hello, world")
    data = s.recv(1024)
print(f"Received {data!r}")
`;

/** The introduction's echo server, verbatim but for port 0 and printing the port it got. */
const pythonServer = `
import socket
HOST = "127.0.0.1"
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind((HOST, 0))
    s.listen()
    print(s.getsockname()[1], flush=True)
    conn, addr = s.accept()
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)
`;

/** startPeer runs a peer server and resolves once `ready` matches its output. */
function startPeer(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => child.kill());
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = ready.exec(seen);
      if (match) resolve({ child, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${command} exited (${code}) before it was ready: ${seen}`)),
    );
  });
}

/** freePort finds a port nobody holds now, for peers that cannot report the port they got. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** pipeThrough runs a client tool with `input` on stdin and returns its stdout. */
function pipeThrough(command: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${command} exited ${code}: ${err}`));
    });
    child.stdin.end(input);
  });
}

describe('Python socket module', () => {
  test("the introduction's echo client gets its Hello, world back from sockkit echo (IPv4 and IPv6)", async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', 'tcp://[::1]:0'], { listens: 2 });
    for (const url of server.urls) {
      const { host, port } = hostPort(url);
      const { stdout } = await run('python3', ['-c', pythonClient, host, String(port)]);
      assert.equal(stdout, "Received b'Hello, world'\n");
    }
    await server.stop();
  });

  test("sockkit send talks to the introduction's echo server", async () => {
    const { match } = await startPeer('python3', ['-c', pythonServer], /^(\d+)$/m);
    const result = await runCli(['send', `tcp://127.0.0.1:${match[1]}`, 'Hello, world']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'Hello, world');
  });
});

describe('socat', { skip: await skipUnless('socat') }, () => {
  test('as a client of sockkit echo over TCP and Unix sockets, 1 MiB byte for byte', async () => {
    const sock = join(dir.path, 'socat.sock');
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', `unix:${sock}`], { listens: 2 });
    const data = randomBytes(1024 * 1024);
    const { port } = hostPort(server.urls[0] as string);
    assert.ok((await pipeThrough('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], data)).equals(data));
    assert.ok((await pipeThrough('socat', ['-t', '5', '-', `UNIX-CONNECT:${sock}`], data)).equals(data));
    await server.stop();
  });

  test('as an echo server for sockkit connect', async () => {
    const port = await freePort();
    await startPeer(
      'socat',
      ['-d', '-d', '-t', '5', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, 'EXEC:cat'],
      /listening on/,
    );
    const data = randomBytes(256 * 1024);
    const result = await runCli(['connect', `tcp://127.0.0.1:${port}`], { input: data });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.equals(data));
  });
});

describe('ncat', { skip: await skipUnless('ncat') }, () => {
  test('as a client of sockkit echo, 1 MiB byte for byte', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const { port } = hostPort(server.urls[0] as string);
    const data = randomBytes(1024 * 1024);
    assert.ok((await pipeThrough('ncat', ['127.0.0.1', String(port)], data)).equals(data));
    await server.stop();
  });

  test('as a server for sockkit connect, in both directions', async () => {
    const port = await freePort();
    const { child } = await startPeer('ncat', ['-v', '-l', '127.0.0.1', String(port)], /Listening on/);
    const fromNcat = new Promise<string>((resolve) => {
      let text = '';
      child.stdout?.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.once('close', () => resolve(text));
    });
    const result = await runCli(['connect', `tcp://127.0.0.1:${port}`], { input: 'from sockkit\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await fromNcat, 'from sockkit\n');
  });
});
