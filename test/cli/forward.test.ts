/**
 * `sockkit forward`, run as a user runs it: the summary, a target down, TLS on either side, a Unix
 * socket to TCP, programs as targets, UDP, and usage errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deadPort, runPeer, sha256 } from '../bridge/peers.js';
import { follow } from '../capture/readers.js';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

describe('sockkit forward', () => {
  test('forwards a client byte for byte and sums up clients and bytes each way at shutdown', {
    timeout: 10_000,
  }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const fwd = await startCli(['forward', 'tcp://127.0.0.1:0', echo.urls[0] as string]);
    const data = randomBytes(1024 * 1024);
    const result = await runCli(['connect', fwd.urls[0] as string], { input: data });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(result.stdout), sha256(data));
    const stopped = await fwd.stop('SIGTERM');
    assert.equal(stopped.code, 0);
    assert.match(
      stopped.stderr,
      /forwarded 1 client, 1(\.0)? MiB to targets, 1(\.0)? MiB back; refused 0 by limit/,
    );
    await echo.stop();
  });

  test('a target that is down: the client is closed at once and one line says why', {
    timeout: 10_000,
  }, async () => {
    const { port } = await deadPort();
    const fwd = await startCli(['forward', 'tcp://127.0.0.1:0', `tcp://127.0.0.1:${port}`]);
    const result = await runCli(['connect', fwd.urls[0] as string], { input: 'anyone?' });
    assert.equal(result.stdout.length, 0);
    const stopped = await fwd.stop('SIGTERM');
    const lines = stopped.stderr.split('\n').filter((l) => l.includes('no target answered'));
    assert.equal(lines.length, 1, stopped.stderr);
    assert.match(
      lines[0] as string,
      new RegExp(
        `^sockkit: forward 127\\.0\\.0\\.1:\\d+: no target answered, client closed \\(connect tcp://127\\.0\\.0\\.1:${port}: connection refused\\)$`,
      ),
    );
    assert.match(stopped.stderr, /forwarded 1 client, .*, 1 with no target answering/);
  });

  test('terminates TLS: a tls:// listener in front of a plain TCP server', { timeout: 10_000 }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const fwd = await startCli(['forward', 'tls://127.0.0.1:0', echo.urls[0] as string, '--self-signed']);
    const fingerprint = /fingerprint ([0-9A-F:]+)/.exec(fwd.stderr())?.[1] as string;
    const result = await runCli(['send', fwd.urls[0] as string, 'through tls', '--fingerprint', fingerprint]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'through tls');
    await Promise.all([fwd.stop(), echo.stop()]);
  });

  test('originates TLS: a plain listener in front of a tls:// server, verified by --target-fingerprint', {
    timeout: 10_000,
  }, async () => {
    const echo = await startCli(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    const fingerprint = /fingerprint ([0-9A-F:]+)/.exec(echo.stderr())?.[1] as string;
    const fwd = await startCli([
      'forward',
      'tcp://127.0.0.1:0',
      echo.urls[0] as string,
      '--target-fingerprint',
      fingerprint,
    ]);
    const result = await runCli(['send', fwd.urls[0] as string, 'tls on the far side']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'tls on the far side');
    await Promise.all([fwd.stop(), echo.stop()]);
  });

  test('a Unix socket to TCP', { timeout: 10_000 }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const sock = join(dir.path, 'fwd.sock');
    const fwd = await startCli(['forward', `unix:${sock}`, echo.urls[0] as string]);
    const result = await runCli(['send', `unix:${sock}`, 'from a unix socket']);
    assert.equal(result.stdout.toString(), 'from a unix socket', result.stderr);
    await Promise.all([fwd.stop(), echo.stop()]);
  });

  test('a program as the target: each client gets its own', { timeout: 10_000 }, async () => {
    const fwd = await startCli(['forward', 'tcp://127.0.0.1:0', 'exec:tr a-z A-Z']);
    for (const word of ['one', 'two']) {
      const result = await runCli(['send', fwd.urls[0] as string, word]);
      assert.equal(result.stdout.toString(), word.toUpperCase(), result.stderr);
    }
    const stopped = await fwd.stop('SIGTERM');
    assert.match(stopped.stderr, /forwarded 2 clients/);
  });

  test('udp:// forwards datagrams and their replies', { timeout: 10_000 }, async () => {
    const echo = await startCli(['echo', 'udp://127.0.0.1:0']);
    const fwd = await startCli(['forward', 'udp://127.0.0.1:0', echo.urls[0] as string]);
    const result = await runCli(['send', fwd.urls[0] as string, 'a datagram']);
    assert.equal(result.stdout.toString(), 'a datagram', result.stderr);
    const stopped = await fwd.stop('SIGTERM');
    assert.match(stopped.stderr, /forwarded 1 client peer, 10 B to targets, 10 B back/);
    await echo.stop();
  });

  test('usage errors exit 2 with one line', { timeout: 10_000 }, async () => {
    const cases = [
      ['forward', 'tcp://127.0.0.1:0'],
      ['forward', 'udp://127.0.0.1:0', 'tcp://127.0.0.1:7'],
      ['forward', 'tcp://127.0.0.1:0', 'udp://127.0.0.1:7'],
      ['forward', 'tcp://127.0.0.1:0', '-'],
      ['forward', 'tcp://127.0.0.1:0', 'tcp://127.0.0.1:7', '--target-ca', 'x.pem'],
    ];
    // Run at once: each is a process start, and the machine may be busy.
    const results = await Promise.all(cases.map((args) => runCli(args, { timeout: 25_000 })));
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, `${cases[i]?.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});

describe('sockkit forward and socat make the same bridges', () => {
  /**
   * throughBoth sends `data` with socat as the client through `sockkit forward` to `target`, and
   * through `socat TCP-LISTEN,fork` to `socatTarget`, and returns what came back each way.
   */
  async function throughBoth(target: string, socatTarget: string, data: Buffer): Promise<[Buffer, Buffer]> {
    const client = (port: number | string) =>
      runPeer('socat', ['-t', '5', '-', `TCP:127.0.0.1:${port}`], data);
    const viaSockkit = await startCli(['forward', 'tcp://127.0.0.1:0', target]);
    const sockkitRun = await client(hostPort(viaSockkit.urls[0] as string).port);
    const bridge = await socatListening([
      '-d',
      '-d',
      'TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr',
      socatTarget,
    ]);
    const socatRun = await client(bridge.port);
    bridge.stop();
    await viaSockkit.stop();
    return [sockkitRun.stdout, socatRun.stdout];
  }

  test('TCP-LISTEN,fork TCP: and forward tcp:// carry the same bytes', { timeout: 10_000 }, async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const data = randomBytes(2 * 1024 * 1024);
    const { port } = hostPort(echo.urls[0] as string);
    const [viaSockkit, viaSocat] = await throughBoth(echo.urls[0] as string, `TCP:127.0.0.1:${port}`, data);
    assert.equal(sha256(viaSockkit), sha256(data));
    assert.ok(viaSocat.equals(viaSockkit), 'the same bytes through both bridges');
    await echo.stop();
  });

  test("TCP-LISTEN,fork EXEC:'wc -c' and forward exec:'wc -c' answer the same", {
    timeout: 10_000,
  }, async () => {
    const [viaSockkit, viaSocat] = await throughBoth('exec:wc -c', 'EXEC:wc -c', randomBytes(777_777));
    assert.equal(viaSockkit.toString().trim(), '777777');
    assert.equal(viaSocat.toString(), viaSockkit.toString());
  });
});

describe('sockkit forward --pcap', () => {
  test('writes what each client said and heard as a TCP flow tshark follows byte for byte', {
    timeout: 9000,
  }, async () => {
    // The target is a plain Node echo in this process: one sockkit process less to start.
    const echo = createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket)).listen(
      0,
      '127.0.0.1',
    );
    await once(echo, 'listening');
    const target = `tcp://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const file = join(dir.path, 'forward.pcapng');
    const fwd = await startCli(['forward', 'tcp://127.0.0.1:0', target, '--pcap', file]);
    const data = randomBytes(100_000);
    const client = await runCli(['connect', fwd.urls[0] as string], { input: data });
    assert.equal(sha256(client.stdout), sha256(data));
    assert.equal((await fwd.stop()).code, 0);
    echo.close();
    const [flow] = await follow(file, 'tcp', 1);
    assert.ok(flow, 'one TCP flow in the capture');
    assert.equal(sha256(flow.fromNode0), sha256(data));
    assert.equal(sha256(flow.fromNode1), sha256(data));
  });
});

/** socatListening starts a socat listener and resolves once it says which port it bound. */
async function socatListening(args: string[]): Promise<{ port: number; stop: () => void }> {
  const child = spawn('socat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on AF=2 127\.0\.0\.1:(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    child.once('close', () => reject(new Error(`socat exited: ${text}`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}
