import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostPort, type Running, runCli, runProgram, startCli, tempDir } from '../helpers.js';

/** A real HTTP origin (Node's http module) that names the path it was asked for. */
async function startOrigin(): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    response.setHeader('Connection', 'close');
    response.end(`origin saw ${request.method} ${request.url}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('sockkit proxy with real clients', { timeout: 60_000 }, () => {
  let origin: { server: Server; port: number };
  let proxy: Running;
  let socksPort: number;
  let httpPort: number;
  const dir = tempDir();
  before(async () => {
    origin = await startOrigin();
    proxy = await startCli(['proxy', 'socks5://127.0.0.1:0', 'http://127.0.0.1:0'], { listens: 2 });
    assert.match(proxy.urls[0] as string, /^socks5:\/\/127\.0\.0\.1:\d+$/);
    assert.match(proxy.urls[1] as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    socksPort = hostPort((proxy.urls[0] as string).replace('socks5', 'tcp')).port;
    httpPort = hostPort((proxy.urls[1] as string).replace('http', 'tcp')).port;
  });
  after(async () => {
    const result = await proxy.stop();
    assert.equal(result.code, 0);
    assert.match(result.stderr, /served \d+ connections/);
    origin.server.close();
    dir.remove();
  });

  test('curl --socks5-hostname reaches the origin, the name resolved by the proxy', {
    timeout: 8000,
  }, async () => {
    const url = `http://localhost:${origin.port}/socks`;
    const result = await runProgram('curl', [
      '-sS',
      '--max-time',
      '5',
      '--socks5-hostname',
      `127.0.0.1:${socksPort}`,
      url,
    ]);
    assert.equal(result.stdout.toString(), 'origin saw GET /socks\n', result.stderr);
    const line = await proxy.waitFor(
      new RegExp(`socks5 connect localhost:${origin.port}: ok, \\d+ B up, \\d+ B down, \\d+`),
    );
    assert.ok(line);
  });

  test('curl --proxy: an http:// request is forwarded in origin form, and -p tunnels with CONNECT', {
    timeout: 8000,
  }, async () => {
    const url = `http://127.0.0.1:${origin.port}/forwarded?q=1`;
    const forwarded = await runProgram('curl', [
      '-sS',
      '--max-time',
      '5',
      '--proxy',
      `http://127.0.0.1:${httpPort}`,
      url,
    ]);
    assert.equal(forwarded.stdout.toString(), 'origin saw GET /forwarded?q=1\n', forwarded.stderr);
    await proxy.waitFor(new RegExp(`http forward 127\\.0\\.0\\.1:${origin.port}: ok`));
    const tunneled = await runProgram('curl', [
      '-sS',
      '--max-time',
      '5',
      '-p',
      '--proxy',
      `http://127.0.0.1:${httpPort}`,
      url,
    ]);
    assert.equal(tunneled.stdout.toString(), 'origin saw GET /forwarded?q=1\n', tunneled.stderr);
    await proxy.waitFor(new RegExp(`http connect 127\\.0\\.0\\.1:${origin.port}: ok`));
  });

  test('proxychains4 sends an unmodified program through the SOCKS5 listener', {
    timeout: 8000,
  }, async () => {
    const config = join(dir.path, 'proxychains.conf');
    writeFileSync(config, `strict_chain\nquiet_mode\n[ProxyList]\nsocks5 127.0.0.1 ${socksPort}\n`);
    const url = `http://127.0.0.1:${origin.port}/chained`;
    const result = await runProgram('proxychains4', [
      '-q',
      '-f',
      config,
      'curl',
      '-sS',
      '--max-time',
      '5',
      url,
    ]);
    assert.equal(result.stdout.toString(), 'origin saw GET /chained\n', result.stderr);
  });

  test('sockkit send --proxy through it, narrated with --trace', { timeout: 8000 }, async () => {
    const result = await runCli([
      'send',
      `tcp://127.0.0.1:${origin.port}`,
      'GET /from-sockkit HTTP/1.0\r\n\r\n',
      '--proxy',
      `socks5://127.0.0.1:${socksPort}`,
      '--trace',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.toString(), /origin saw GET \/from-sockkit/);
    assert.match(
      result.stderr,
      new RegExp(
        `proxy socks5://127\\.0\\.0\\.1:${socksPort}: socks5 connect 127\\.0\\.0\\.1:${origin.port}`,
      ),
    );
    assert.match(result.stderr, /tunnel to 127\.0\.0\.1:\d+ open/);
  });

  test('logins: curl with the right one passes, without one gets 407; a wrong SOCKS5 one is refused', {
    timeout: 10_000,
  }, async () => {
    const guarded = await startCli([
      'proxy',
      'socks5://127.0.0.1:0',
      '--user',
      'alice:s3cret',
      '--user',
      'bob:pw:with:colons',
    ]);
    try {
      const port = hostPort((guarded.urls[0] as string).replace('socks5', 'tcp')).port;
      const url = `http://127.0.0.1:${origin.port}/login`;
      // Run side by side: each client is a process of its own, slow to start on a busy machine.
      const [ok, missing, socks, wrong] = await Promise.all([
        runProgram('curl', [
          '-sS',
          '--max-time',
          '5',
          '--proxy',
          `http://127.0.0.1:${port}`,
          '--proxy-user',
          'bob:pw:with:colons',
          url,
        ]),
        runProgram('curl', [
          '-s',
          '--max-time',
          '5',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '--proxy',
          `http://127.0.0.1:${port}`,
          url,
        ]),
        runProgram('curl', [
          '-sS',
          '--max-time',
          '5',
          '--socks5-hostname',
          `alice:s3cret@127.0.0.1:${port}`,
          url,
        ]),
        runCli([
          'send',
          `tcp://127.0.0.1:${origin.port}`,
          'x',
          '--proxy',
          `socks5://alice:nope@127.0.0.1:${port}`,
        ]),
      ]);
      assert.equal(ok.stdout.toString(), 'origin saw GET /login\n', ok.stderr);
      assert.equal(missing.stdout.toString(), '407');
      assert.equal(socks.stdout.toString(), 'origin saw GET /login\n', socks.stderr);
      assert.equal(wrong.code, 1);
      assert.equal(
        wrong.stderr,
        `sockkit: connect tcp://127.0.0.1:${origin.port} via socks5://alice@127.0.0.1:${port}: proxy refused: authentication failed\n`,
      );
      await guarded.waitFor(/socks5: refused: login failed for user "alice"/);
      await guarded.waitFor(/user "alice": ok/);
    } finally {
      await guarded.stop();
    }
  });

  test('destination rules: a denied port is refused with one line naming the rule', {
    timeout: 10_000,
  }, async () => {
    const strict = await startCli([
      'proxy',
      'socks5://127.0.0.1:0',
      '--deny-dest',
      `*:${origin.port}`,
      '--allow-dest',
      '127.0.0.0/8',
    ]);
    try {
      const port = hostPort((strict.urls[0] as string).replace('socks5', 'tcp')).port;
      const result = await runCli([
        'send',
        `tcp://127.0.0.1:${origin.port}`,
        'x',
        '--proxy',
        `socks5://127.0.0.1:${port}`,
      ]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `sockkit: connect tcp://127.0.0.1:${origin.port} via socks5://127.0.0.1:${port}: proxy refused: connection not allowed by ruleset\n`,
      );
      await strict.waitFor(new RegExp(`refused: destination denied by rule \\*:${origin.port}`));
    } finally {
      await strict.stop();
    }
  });

  test('refuses to start open on an address other hosts can reach, in one line; bad flags exit 2', {
    timeout: 8000,
  }, async () => {
    // More malformed values are refused by the parsers' own tests (test/proxy/).
    const flagCases = [['--user', 'no-colon', '--deny-dest', '10.0.0.0/40']];
    const [open, ...bad] = await Promise.all([
      runCli(['proxy', 'socks5://0.0.0.0:0']),
      ...flagCases.map((args) => runCli(['proxy', 'socks5://127.0.0.1:0', ...args])),
    ]);
    assert.equal(open?.code, 2);
    assert.equal(
      open?.stderr,
      'sockkit: proxy: socks5://0.0.0.0:0: refusing to run an open proxy where other hosts can reach it; ' +
        'require a login (--user NAME:PASSWORD) or allow only some clients (--allow CIDR)\n',
    );
    for (const [i, result] of bad.entries()) {
      assert.equal(result.code, 2, `${flagCases[i]?.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    }
  });

  test('a reset between two hops fails the send in one line, not the process', {
    timeout: 8000,
  }, async () => {
    // An HTTP proxy that grants the tunnel, then resets it at once: the reset arrives while the
    // client gets its next hop ready (the SOCKS client is loaded on first use), with nobody else
    // listening on the socket. It used to reach the process as an unhandled 'error'.
    const resetting = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
    const port = (resetting.address() as { port: number }).port;
    try {
      const result = await runCli([
        'send',
        `tcp://127.0.0.1:${origin.port}`,
        'x',
        '--proxy',
        `http://127.0.0.1:${port}`,
        '--proxy',
        'socks5://127.0.0.1:1080',
      ]);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr,
        `sockkit: connect tcp://127.0.0.1:${origin.port} via socks5://127.0.0.1:1080: connection reset by peer\n`,
      );
    } finally {
      resetting.close();
    }
  });
});
