import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../src/wait.js';
import { freePort } from '../chat/redis-server.js';
import { type Running, runCli, startCli, tempDir } from '../helpers.js';

/** stopChild ends a peer the test started and waits for it to exit. */
async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** benchThrough runs `sockkit bench URL` through `proxies` for a second and checks it carried every byte. */
async function benchThrough(url: string, proxies: readonly string[], connections: number): Promise<void> {
  const flags = proxies.flatMap((proxy) => ['--proxy', proxy]);
  const result = await runCli(['bench', url, ...flags, '-c', String(connections), '-t', '1s', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout.toString().trim().split('\n').pop() as string);
  assert.ok(summary.messages > 0);
  assert.equal(summary.mismatches + summary.errors, 0);
}

/**
 * microsocks and tinyproxy cannot take port 0: each gets a port that was free a moment ago, and
 * the test waits until it accepts connections (microsocks says nothing when it is ready).
 */
describe("sockkit's --proxy client through microsocks and tinyproxy", { timeout: 60_000 }, () => {
  const dir = tempDir();
  let echo: Running;
  let echoUrl: string;
  let microsocks: ChildProcess | undefined;
  let tinyproxy: ChildProcess | undefined;
  let socksPort: number;
  let httpPort: number;
  before(async () => {
    echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    echoUrl = echo.urls[0] as string;
    socksPort = await freePort();
    microsocks = spawn(
      'microsocks',
      ['-i', '127.0.0.1', '-p', String(socksPort), '-u', 'carol', '-P', 'pw'],
      {
        stdio: 'ignore',
      },
    );
    httpPort = await freePort();
    const config = join(dir.path, 'tinyproxy.conf');
    writeFileSync(
      config,
      `Port ${httpPort}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nAllow 127.0.0.1\nLogLevel Error\n`,
    );
    tinyproxy = spawn('tinyproxy', ['-d', '-c', config], { stdio: 'ignore' });
    await waitFor(
      [
        { scheme: 'tcp', host: '127.0.0.1', port: socksPort },
        { scheme: 'tcp', host: '127.0.0.1', port: httpPort },
      ],
      { timeout: 10_000, minDelay: 20, maxDelay: 200 },
    );
  });
  after(async () => {
    await stopChild(microsocks);
    await stopChild(tinyproxy);
    await echo.stop();
    dir.remove();
  });

  test('bench through microsocks with a login checks every byte', { timeout: 10_000 }, async () => {
    await benchThrough(echoUrl, [`socks5://carol:pw@127.0.0.1:${socksPort}`], 8);
  });

  test("microsocks's refusals are named: a wrong login, and none at all", { timeout: 10_000 }, async () => {
    const wrong = await runCli([
      'send',
      echoUrl,
      'x',
      '--proxy',
      `socks5://carol:nope@127.0.0.1:${socksPort}`,
    ]);
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      `sockkit: connect ${echoUrl} via socks5://carol@127.0.0.1:${socksPort}: proxy refused: authentication failed\n`,
    );
    const none = await runCli(['send', echoUrl, 'x', '--proxy', `socks5://127.0.0.1:${socksPort}`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /proxy refused: no authentication method in common/);
  });

  // Neither tinyproxy nor microsocks passes a half-close on (each ends the whole tunnel at the
  // first EOF), so the exchanges here keep both directions open: bench does, and checks every byte.
  test('bench through tinyproxy (HTTP CONNECT) checks every byte', { timeout: 10_000 }, async () => {
    await benchThrough(echoUrl, [`http://127.0.0.1:${httpPort}`], 4);
  });

  test('a chain of two real proxies: microsocks, then tinyproxy, then the echo server', {
    timeout: 10_000,
  }, async () => {
    await benchThrough(
      echoUrl,
      [`socks5://carol:pw@127.0.0.1:${socksPort}`, `http://127.0.0.1:${httpPort}`],
      4,
    );
  });

  test('a refusal deep in the chain names the hop that refused', { timeout: 10_000 }, async () => {
    const closedPort = await freePort();
    const result = await runCli([
      'send',
      `tcp://127.0.0.1:${closedPort}`,
      'x',
      '--proxy',
      `socks5://carol:pw@127.0.0.1:${socksPort}`,
      '--proxy',
      `http://127.0.0.1:${httpPort}`,
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^sockkit: connect tcp://127\\.0\\.0\\.1:${closedPort} via http://127\\.0\\.0\\.1:${httpPort}: proxy refused: 5\\d\\d `,
      ),
    );
  });
});
