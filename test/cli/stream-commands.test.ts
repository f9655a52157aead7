import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

describe('sockkit echo', () => {
  test('serves several URLs at once and prints the real port of each', async () => {
    const sock = join(dir.path, 'echo.sock');
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', 'tcp://[::1]:0', `unix:${sock}`], {
      listens: 3,
    });
    assert.match(server.urls[0] as string, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.match(server.urls[1] as string, /^tcp:\/\/\[::1\]:[1-9]\d*$/);
    assert.equal(server.urls[2], `unix:${sock}`);
    for (const url of server.urls) {
      const result = await runCli(['send', url, `hello via ${url}`]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), `hello via ${url}`);
    }
    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0);
    assert.match(stopped.stderr, /served 3 connections/);
  });

  test('exits 0 after a graceful shutdown on SIGINT', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const stopped = await server.stop('SIGINT');
    assert.equal(stopped.code, 0);
    assert.match(stopped.stderr, /shutting down/);
  });

  test('reports an address in use as a run-time failure (exit 1)', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const url = server.urls[0] as string;
    const result = await runCli(['echo', url]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`^sockkit: listen ${url.replace(/[[\]]/g, '\\$&')}: address already in use`),
    );
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    await server.stop();
  });
});

describe('sockkit send', () => {
  test('prints exactly what comes back, binary-safe', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const result = await runCli(['send', server.urls[0] as string, 'héllo\u0001\u00ff wörld']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString(), 'héllo\u0001\u00ff wörld');
    await server.stop();
  });

  test('tries every address of a name: localhost reaches a server on 127.0.0.1 only', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const { port } = hostPort(server.urls[0] as string);
    const result = await runCli(['send', `tcp://localhost:${port}`, 'by name', '--trace']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'by name');
    await server.stop();
  });

  test('prints an 8 MiB reply in full to a slow reader, and stops quietly when the reader goes (| head)', async (t) => {
    // A server that answers any request with 8 MiB, far more than a pipe holds.
    const reply = randomBytes(8 * 1024 * 1024);
    const big = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      socket.resume();
      socket.on('end', () => socket.end(reply));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => big.once('listening', resolve));
    t.after(() => big.close());
    const url = `tcp://127.0.0.1:${(big.address() as { port: number }).port}`;
    const result = await runCli(['send', url, 'all of it'], { slowReader: true });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, reply.length, 'every byte reaches stdout');
    assert.ok(result.stdout.equals(reply));

    // bash runs the CLI ("$@") into `head`, and reports the CLI's exit status.
    const pipeline = `"$@" | head -c 10 | wc -c; echo "exit \${PIPESTATUS[0]}" >&2`;
    const { stdout, stderr } = await runCli(['send', url, 'hi'], {
      wrapper: ['bash', '-c', pipeline, 'bash'],
    });
    assert.equal(stdout.toString().trim(), '10');
    assert.equal(stderr, 'exit 0\n', 'no error line, exit 0');
  });

  test('--timeout bounds the whole exchange when the server never answers', async () => {
    // A server that accepts and reads, but never replies nor closes.
    const silent = createServer({ allowHalfOpen: true }, (socket) => socket.resume()).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    const result = await runCli(['send', `tcp://127.0.0.1:${port}`, 'anyone?', '--timeout', '300ms']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `sockkit: send tcp://127.0.0.1:${port}: timed out\n`);
    // The 300 ms timeout fired, not the 10 s default (the margin is the CLI's start-up on a busy machine).
    assert.ok(Date.now() - started < 9000);
    silent.close();
  });
});

describe('sockkit connect', () => {
  test('relays 2 MiB of binary stdin to the server and the echo to stdout, byte for byte', async () => {
    const server = await startCli(['echo', 'tcp://[::1]:0']);
    const data = randomBytes(2 * 1024 * 1024);
    const result = await runCli(['connect', server.urls[0] as string], { input: data });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.equals(data), 'the echo differs from the input');
    await server.stop();
  });

  test('prints all of a 4 MiB echo to a slow reader of its stdout before it exits', async (t) => {
    // stdout is a pipe, which Node writes asynchronously: exiting with bytes still queued would
    // cut the tail off (it once did, one run in many).
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    t.after(() => server.stop());
    const data = randomBytes(4 * 1024 * 1024);
    const result = await runCli(['connect', server.urls[0] as string], { input: data, slowReader: true });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, data.length, 'every byte reaches stdout');
    assert.ok(result.stdout.equals(data), 'the echo differs from the input');
  });

  test('half-closes at the end of stdin and still prints what the server sends afterwards', async () => {
    // A server that waits for EOF, then answers with a count of what it got.
    const counting = createServer({ allowHalfOpen: true }, (socket) => {
      let bytes = 0;
      socket.on('data', (d) => {
        bytes += d.length;
      });
      socket.on('end', () => socket.end(`got ${bytes} bytes\n`));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => counting.once('listening', resolve));
    const { port } = counting.address() as { port: number };
    const result = await runCli(['connect', `tcp://127.0.0.1:${port}`], { input: 'x'.repeat(1000) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'got 1000 bytes\n');
    counting.close();
  });
  test('stops quietly when whoever reads its stdout goes away (| head)', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const pipeline = `head -c 4000000 /dev/zero | "$@" | head -c 10 | wc -c; echo "exit \${PIPESTATUS[1]}" >&2`;
    const { stdout, stderr } = await runCli(['connect', server.urls[0] as string], {
      wrapper: ['bash', '-c', pipeline, 'bash'],
    });
    assert.equal(stdout.toString().trim(), '10');
    assert.equal(stderr, 'exit 0\n', 'no stack trace, exit 0');
    await server.stop();
  });
});

describe('sockkit listen', () => {
  test('accepts one client, prints what it sends, sends it stdin, then exits', async () => {
    const server = await startCli(['listen', 'tcp://127.0.0.1:0'], { stdin: 'pipe' });
    server.child.stdin?.end('from the server\n');
    const { port } = hostPort(server.urls[0] as string);
    const client = connect({ host: '127.0.0.1', port });
    const reply: Buffer[] = [];
    client.on('data', (d) => reply.push(d));
    const clientClosed = new Promise((resolve) => client.once('close', resolve));
    client.end('from the client\n');
    const result = await server.done;
    await clientClosed;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'from the client\n');
    assert.equal(Buffer.concat(reply).toString(), 'from the server\n');
  });

  test('--keep-open serves client after client until stopped', async () => {
    const server = await startCli(['listen', `unix:${join(dir.path, 'listen.sock')}`, '--keep-open']);
    for (const word of ['one', 'two', 'three']) {
      const client = connect({ path: join(dir.path, 'listen.sock') });
      client.end(`${word}\n`);
      client.resume();
      await new Promise((resolve) => client.once('close', resolve));
    }
    const result = await server.stop();
    assert.equal(result.code, 0);
    assert.deepEqual(result.stdout.toString().split('\n').filter(Boolean).sort(), ['one', 'three', 'two']);
  });

  // A client that stops reading holds stdin back (backpressure waits for the slowest client); when
  // it leaves, whatever waited on it must go on. Each case runs until the server says (--trace)
  // that stdin waits on A, so A leaves only once the server is really stuck on it.
  for (const { scheme, leave } of [
    { scheme: 'tcp', leave: 'reset' },
    { scheme: 'unix', leave: 'close' },
  ] as const) {
    test(`--keep-open: a ${scheme} client that stops reading, then leaves (${leave}), no longer holds stdin from the others`, {
      timeout: 9000,
    }, async () => {
      const path = join(dir.path, `keep-open-${leave}.sock`);
      const url = scheme === 'tcp' ? 'tcp://127.0.0.1:0' : `unix:${path}`;
      const server = await startCli(['--trace', 'listen', url, '--keep-open'], { stdin: 'pipe' });
      const target = scheme === 'tcp' ? hostPort(server.urls[0] as string) : { path };
      const serverOut: Buffer[] = [];
      server.child.stdout?.on('data', (chunk: Buffer) => serverOut.push(chunk));
      const heardFrom = (who: string): Promise<void> =>
        new Promise((resolve) => {
          const check = (): void => {
            if (Buffer.concat(serverOut).includes(who)) {
              server.child.stdout?.off('data', check);
              resolve();
            }
          };
          server.child.stdout?.on('data', check);
          check();
        });
      // A never reads; B reads everything and keeps it.
      const a = connect(target);
      a.pause();
      a.on('error', () => {});
      a.write('A\n');
      const b = connect(target);
      const received: Buffer[] = [];
      b.on('data', (chunk: Buffer) => received.push(chunk));
      const bEnded = new Promise((resolve) => b.once('end', resolve));
      b.write('B\n');
      await Promise.all([heardFrom('A\n'), heardFrom('B\n')]);

      // Feed stdin until the server reports that it waits on A (A's window is full).
      const stdin = server.child.stdin as NodeJS.WritableStream;
      const stuckOnA = new Promise<void>((resolve) => {
        const check = (): void => {
          if (/stdin paused/.test(server.stderr())) {
            server.child.stderr?.off('data', check);
            resolve();
          }
        };
        server.child.stderr?.on('data', check);
        check();
      });
      let stuck = false;
      void stuckOnA.then(() => {
        stuck = true;
      });
      const written: Buffer[] = [];
      while (!stuck) {
        const chunk = randomBytes(64 * 1024);
        written.push(chunk);
        if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), stuckOnA]);
      }

      if (leave === 'reset') a.resetAndDestroy();
      else a.destroy();
      // What stdin brings after A left reaches B, and so does everything before it.
      const after = randomBytes(1024 * 1024);
      written.push(after);
      stdin.end(after);
      await bEnded;
      const expected = Buffer.concat(written);
      const got = Buffer.concat(received);
      assert.equal(got.length, expected.length, 'B received every byte written to stdin');
      assert.ok(got.equals(expected), 'byte-exact');
      b.destroy();
      const result = await server.stop();
      assert.equal(result.code, 0, result.stderr.slice(-500));
    });
  }
});

describe('errors', () => {
  const usage: [string[], RegExp][] = [
    [['send', 'tcp://127.0.0.1', 'x'], /^sockkit: address "tcp:\/\/127\.0\.0\.1": missing port\n$/],
    [['send', 'tcp://127.0.0.1:70000', 'x'], /port 70000 out of range/],
    [['send', 'gopher://host:70', 'x'], /unknown scheme "gopher"/],
    [['echo', '127.0.0.1:80'], /did you mean tcp:\/\/127\.0\.0\.1:80\?/],
    [['send', 'tcp://127.0.0.1:1', 'x', '--bogus'], /^sockkit: send: unknown option '--bogus'/],
    [['send', 'tcp://127.0.0.1:1', 'x', '--timeout', 'soon'], /--timeout: invalid duration "soon"/],
    [['send', 'tcp://127.0.0.1:1'], /missing required argument 'message'/],
    [['frobnicate'], /^sockkit: unknown command 'frobnicate'/],
  ];
  for (const [args, message] of usage) {
    test(`\`sockkit ${args.join(' ')}\` is a usage error: exit 2, one line`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    });
  }

  test('a refused connection is exit 1 with one line naming the address', async () => {
    // Find a port nobody listens on: bind one, note it, close it.
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const result = await runCli(['send', `tcp://127.0.0.1:${port}`, 'x']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `sockkit: connect tcp://127.0.0.1:${port}: connection refused (is a server listening there?)\n`,
    );
  });

  test('a missing Unix socket file is exit 1 naming the path', async () => {
    const path = join(dir.path, 'nobody-here.sock');
    const result = await runCli(['connect', `unix:${path}`]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `sockkit: connect unix:${path}: no such socket file (is a server listening there?)\n`,
    );
  });

  test('--help on every command shows examples and exits 0', async () => {
    for (const command of ['echo', 'send', 'connect', 'listen', 'demo']) {
      const result = await runCli([command, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout.toString(), /Examples:/);
    }
  });
});

describe('--trace', () => {
  test('narrates the server and client workflows in order', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', '--trace']);
    const client = await runCli(['send', server.urls[0] as string, 'Hello, world', '--trace']);
    const serverResult = await server.stop();
    const steps = (text: string): string[] =>
      text
        .split('\n')
        .filter((line) => line.startsWith('['))
        .map((line) => line.replace(/^\[\w+\] #\d+ /, '').replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR'));
    assert.deepEqual(steps(client.stderr), [
      'socket tcp4 created',
      'connecting to ADDR',
      'connected to ADDR from ADDR',
      'sent 12 bytes to ADDR',
      'shutdown write (FIN sent)',
      'recv 12 bytes from ADDR',
      'peer shut down write (EOF)',
      'closed',
    ]);
    const serverSteps = steps(serverResult.stderr);
    assert.deepEqual(serverSteps.slice(0, 3), [
      'socket tcp4 created',
      'bound to ADDR',
      'listening (backlog 511)',
    ]);
    assert.deepEqual(serverSteps.slice(3), [
      'accepted ADDR',
      'recv 12 bytes from ADDR',
      'sent 12 bytes to ADDR',
      'peer shut down write (EOF)',
      'shutdown write (FIN sent)',
      'closed',
    ]);
  });
});

describe('sockkit demo', () => {
  test('shows Hello, world going out and coming back, and exits 0', async () => {
    const result = await runCli(['demo']);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout.toString();
    assert.match(out, /\[server\] #\d+ listening/);
    assert.match(out, /\[client\] #\d+ sent 12 bytes/);
    assert.match(out, /\[server\] #\d+ recv 12 bytes/);
    assert.match(out, /received "Hello, world": the echo is exact/);
  });
});
