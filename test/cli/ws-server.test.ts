/**
 * `sockkit echo ws://` and `sockkit listen ws://` with wscat (the npm package, a devDependency)
 * as their client: a WebSocket peer nobody here wrote.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { runCli, startCli } from '../helpers.js';
import { WSCAT, wscat } from '../websocket/servers.js';

/** interactive starts wscat connected to `url`, to be driven line by line. */
function interactive(url: string): {
  child: ChildProcess;
  output: () => string;
  waitFor(re: RegExp): Promise<void>;
} {
  const child = spawn(process.execPath, [WSCAT, '--no-color', '-c', url], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  });
  return {
    child,
    output: () => output,
    async waitFor(re) {
      while (!re.test(output)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

describe('sockkit WebSocket servers with wscat as the client', () => {
  test('echo ws:// sends every wscat message back', BOUND, async () => {
    const server = await startCli(['echo', 'ws://127.0.0.1:0/echo']);
    try {
      const url = server.urls[0] as string;
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/echo$/);
      const run = await wscat(['-c', url, '-x', 'hello', '-x', 'wörld', '-w', '1']);
      assert.equal(run.code, 0);
      assert.deepEqual(run.stdout.trim().split('\n'), ['hello', 'wörld']);
    } finally {
      const result = await server.stop();
      assert.equal(result.code, 0);
      assert.match(result.stderr, /served 1 connection, 11 B in, 11 B out/);
    }
  });

  test('listen ws:// sends stdin lines to a wscat user and prints what it types', BOUND, async () => {
    const server = await startCli(['listen', 'ws://127.0.0.1:0/'], { stdin: 'pipe' });
    // Read once a client is there: the first line tells the test that wscat is connected.
    server.child.stdin?.write('from sockkit\n');
    const client = interactive(server.urls[0] as string);
    try {
      await client.waitFor(/^from sockkit$/m);
      client.child.stdin?.write('from wscat\n');
      await server.waitFor(/^from wscat$/m, 'stdout');
      client.child.stdin?.end(); // wscat closes the WebSocket as it goes
      const result = await server.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), 'from wscat\n');
    } finally {
      client.child.kill('SIGKILL');
      await server.stop();
    }
  });

  test(
    'listen ws:// --keep-open: every client message to stdout, each stdin line to every client',
    BOUND,
    async () => {
      const server = await startCli(['listen', 'ws://127.0.0.1:0/', '--keep-open'], { stdin: 'pipe' });
      const url = server.urls[0] as string;
      const a = new WebSocket(url);
      const b = new WebSocket(url);
      try {
        await Promise.all([once(a, 'open'), once(b, 'open')]);
        a.send('from a');
        b.send('from b');
        await server.waitFor(/^from a$/m, 'stdout');
        await server.waitFor(/^from b$/m, 'stdout');
        server.child.stdin?.write('to everyone\n');
        const [[toA], [toB]] = await Promise.all([once(a, 'message'), once(b, 'message')]);
        assert.deepEqual([String(toA), String(toB)], ['to everyone', 'to everyone']);
        const closing = once(a, 'close');
        const result = await server.stop();
        assert.equal(result.code, 0, result.stderr);
        assert.equal(((await closing) as [number])[0], 1001);
      } finally {
        a.terminate();
        b.terminate();
      }
    },
  );

  test(
    'wss:// with --self-signed: wscat connects when told not to check, and is refused otherwise',
    BOUND,
    async () => {
      const server = await startCli(['echo', 'wss://127.0.0.1:0/', '--self-signed']);
      try {
        const url = server.urls[0] as string;
        assert.match(server.stderr(), /self-signed certificate for 127\.0\.0\.1.*SHA-256 fingerprint/);
        const trusted = await wscat(['-c', url, '-n', '-x', 'over tls', '-w', '1']);
        assert.deepEqual([trusted.code, trusted.stdout.trim()], [0, 'over tls']);
        const refused = await wscat(['-c', url, '-x', 'x', '-w', '1']);
        assert.notEqual(refused.code, 0);
      } finally {
        await server.stop();
      }
    },
  );

  test('a page from another origin is refused unless --allow-origin names it', BOUND, async () => {
    const strict = await startCli(['echo', 'ws://127.0.0.1:0/']);
    const open = await startCli(['echo', 'ws://127.0.0.1:0/', '--allow-origin', 'https://app.example']);
    try {
      const refused = await wscat(['-c', strict.urls[0] as string, '-o', 'https://app.example', '-x', 'x']);
      assert.notEqual(refused.code, 0);
      await strict.waitFor(
        /limit handshake-failed 127\.0\.0\.1:\d+: refused: origin "https:\/\/app\.example"/,
      );
      const allowed = await wscat([
        '-c',
        open.urls[0] as string,
        '-o',
        'https://app.example',
        '-x',
        'ok',
        '-w',
        '1',
      ]);
      assert.deepEqual([allowed.code, allowed.stdout.trim()], [0, 'ok']);
    } finally {
      await strict.stop();
      await open.stop();
    }
  });

  test('echo ws:// keeps its limits: --max-connections, --max-message-size', BOUND, async () => {
    const server = await startCli([
      'echo',
      'ws://127.0.0.1:0/',
      '--max-connections',
      '1',
      '--max-message-size',
      '1KiB',
    ]);
    const url = server.urls[0] as string;
    const first = new WebSocket(url);
    try {
      await once(first, 'open');
      const second = await runCli(['send', url, 'x']);
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        /^sockkit: connect ws:\/\/127\.0\.0\.1:\d+\/: (connection reset by peer|the server closed the connection before answering the upgrade)\n$/,
      );
      await server.waitFor(/limit max-connections/);
      first.send('x'.repeat(1025));
      const [code] = (await once(first, 'close')) as [number];
      assert.equal(code, 1009);
    } finally {
      first.terminate();
      await server.stop();
    }
  });

  test('--trace narrates the upgrade and the close handshake', BOUND, async () => {
    const server = await startCli(['--trace', 'echo', 'ws://127.0.0.1:0/t']);
    try {
      const run = await runCli(['--trace', 'send', server.urls[0] as string, 'hi']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString(), 'hi\n');
      const client = run.stderr;
      for (const step of [
        /\[client\] #\d+ connected to 127\.0\.0\.1:\d+/,
        /upgrade request: GET \/t HTTP\/1\.1/,
        /Sec-WebSocket-Key: /,
        /upgrade response: 101 Switching Protocols/,
        /Sec-WebSocket-Accept: /,
        /sent 2 bytes/,
        /recv 2 bytes/,
        /close frame sent: 1000/,
        /close frame received in answer: 1000/,
      ])
        assert.match(client, step);
      await server.waitFor(/close frame received: 1000; answered/);
      assert.match(server.stderr(), /\[server\] #\d+ upgrade request: GET \/t HTTP\/1\.1/);
      assert.match(server.stderr(), /\[server\] #\d+ upgrade response: 101 Switching Protocols/);
    } finally {
      await server.stop();
    }
  });

  test(
    'ws:// flags are refused for other schemes, and ws:// for services without a WebSocket form',
    BOUND,
    async () => {
      const wrong = await runCli(['echo', 'tcp://127.0.0.1:0', '--allow-origin', 'https://a.example']);
      assert.equal(wrong.code, 2);
      assert.match(
        wrong.stderr,
        /^sockkit: echo: --allow-origin applies to ws:\/\/ or wss:\/\/ addresses only, not tcp:\/\/127\.0\.0\.1:0\n$/,
      );
      const daytime = await runCli(['serve', 'daytime', 'ws://127.0.0.1:0/']);
      assert.equal(daytime.code, 2);
      assert.match(daytime.stderr, /daytime has no WebSocket form/);
      const frame = await runCli(['connect', 'ws://127.0.0.1:1/', '--frame', 'line']);
      assert.equal(frame.code, 2);
      assert.match(frame.stderr, /a WebSocket message is already one message/);
    },
  );

  test('the docs page exists and --help shows ws:// examples', BOUND, async () => {
    assert.match(readFileSync(new URL('../../../docs/websocket.md', import.meta.url), 'utf8'), /# WebSocket/);
    const commands = ['connect', 'send', 'listen', 'echo'];
    const helps = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    for (const [i, help] of helps.entries())
      assert.match(help.stdout.toString(), /sockkit \w+ wss?:\/\//, commands[i]);
  });
});
