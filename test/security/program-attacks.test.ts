/**
 * Attacks on the programs sockkit runs for a connection (`listen --exec/--sh`, `connect
 * --exec/--sh`): a program that leaves children behind, sockkit stopped by a signal while a
 * program runs, and the flags that would silently not apply.
 *
 * Whether a program (or its child) is still alive is told by an event, never by a timer: each one
 * holds a connection to a Unix socket server of the test, and the server sees it close when the
 * process holding it dies.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join as joinPath } from 'node:path';
import { test } from 'node:test';
import { programOf } from '../../src/bridge/endpoint.js';
import { startProgram } from '../../src/bridge/program.js';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

/** A Unix socket server that hands over each connection made to it: one per living holder. */
async function holderServer(): Promise<{
  path: string;
  server: Server;
  next: () => Promise<Socket>;
  remove: () => void;
}> {
  const dir = tempDir();
  const path = joinPath(dir.path, 'holder.sock');
  const waiting: Socket[] = [];
  const wanted: ((socket: Socket) => void)[] = [];
  const server = createServer((socket) => {
    socket.resume();
    const take = wanted.shift();
    if (take) take(socket);
    else waiting.push(socket);
  });
  server.listen(path);
  await once(server, 'listening');
  return {
    path,
    server,
    next: () => {
      const ready = waiting.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => wanted.push(resolve));
    },
    remove: () => {
      server.close();
      dir.remove();
    },
  };
}

/** A command line that connects to `path` and then sleeps, holding the connection while alive. */
function holder(path: string): string {
  return `python3 -c "import socket,time; s=socket.socket(socket.AF_UNIX); s.connect('${path}'); time.sleep(60)"`;
}

test('a program ended by sockkit takes its own children with it (no orphan keeps running)', {
  timeout: 10_000,
}, async () => {
  const holders = await holderServer();
  try {
    // The shell waits for its child (a command follows it), so the child is not the shell itself.
    const program = await startProgram(programOf(`${holder(holders.path)}; echo done`, true), {
      grace: 100,
      stderr: 'ignore',
    });
    const grandchild = await holders.next();
    const grandchildGone = once(grandchild, 'close');
    program.close();
    const exit = await program.exited;
    assert.equal(exit.signal, 'SIGTERM', 'the shell was ended after the grace');
    await grandchildGone; // Today's code leaves it running, reparented to init: this never comes.
  } finally {
    holders.remove();
  }
});

test('connect --exec stopped by SIGTERM ends its program and exits cleanly (no orphan, no 143)', {
  timeout: 10_000,
}, async () => {
  const holders = await holderServer();
  const target = createServer((socket) => socket.resume()).listen(0, '127.0.0.1');
  await once(target, 'listening');
  const { port } = target.address() as { port: number };
  try {
    const client = await startCli(['connect', `tcp://127.0.0.1:${port}`, '--exec', holder(holders.path)], {
      listens: 0,
    });
    const program = await holders.next();
    const programGone = once(program, 'close');
    // Its exit, not its 'close': a program left running would hold sockkit's stderr open.
    const exited = once(client.child, 'exit');
    client.child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.equal(signal, null, `sockkit handled the signal: ${client.stderr()}`);
    assert.equal(code, 0, client.stderr());
    await programGone;
  } finally {
    target.close();
    holders.remove();
  }
});

test('--exec, --sh and the capture flags on ws:// are refused, never silently ignored', {
  timeout: 10_000,
}, async () => {
  const runs = await Promise.all([
    runCli(['listen', 'ws://127.0.0.1:0/', '--exec', 'cat']),
    runCli(['connect', 'ws://127.0.0.1:9/', '--sh', 'cat']),
    runCli(['listen', 'ws://127.0.0.1:0/', '--hexdump']),
    runCli(['connect', 'wss://127.0.0.1:9/', '--pcap', '/dev/null']),
  ]);
  const [listenExec, connectSh, listenHexdump, connectPcap] = runs;
  for (const [run, flag, url] of [
    [listenExec, '--exec', 'ws://127.0.0.1:0/'],
    [connectSh, '--sh', 'ws://127.0.0.1:9/'],
    [listenHexdump, '--hexdump', 'ws://127.0.0.1:0/'],
    [connectPcap, '--pcap', 'wss://127.0.0.1:9/'],
  ] as const) {
    assert.equal(run?.code, 2, `${flag} on ${url}: ${run?.stderr}`);
    assert.match(
      run?.stderr ?? '',
      new RegExp(`^sockkit: \\w+: ${flag} applies to .* addresses only, not ${url}\\n$`),
    );
  }
});

test('--exec and --sh keep their own refusal for udp:// and --frame', { timeout: 10_000 }, async () => {
  const [listenUdp, connectFrame] = await Promise.all([
    runCli(['listen', 'udp://127.0.0.1:0', '--exec', 'cat']),
    runCli(['connect', 'tcp://127.0.0.1:9', '--frame', 'line', '--exec', 'cat']),
  ]);
  assert.equal(listenUdp.code, 2, listenUdp.stderr);
  assert.match(
    listenUdp.stderr,
    /^sockkit: listen: --exec applies to tcp:\/\/, tls:\/\/ or unix: addresses only/,
  );
  assert.equal(connectFrame.code, 2, connectFrame.stderr);
  assert.match(connectFrame.stderr, /--exec and --sh take the bytes of the connection: not with --frame/);
});

test('a flood of clients on listen --keep-open --exec starts at most 100 programs by default', {
  timeout: 10_000,
}, async () => {
  const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--keep-open', '--exec', 'cat']);
  const { port } = hostPort(server.urls[0] as string);
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < 110; i++) clients.push(connect(port, '127.0.0.1').on('error', () => {}));
    await server.waitFor(/refused: 100 connections open \(--max-connections 100\)/, 'stderr', 8000);
    const children = readdirSync('/proc').filter((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        return (
          readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] ===
          String(server.child.pid)
        );
      } catch {
        return false; // it exited while we looked
      }
    });
    assert.ok(children.length <= 100, `${children.length} programs running`);
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
  }
});
