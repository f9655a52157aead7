/**
 * Attacks on the chat's web front end (`chat serve --web`): malformed requests that once killed the
 * broker, pages of other sites that open the chat's WebSocket in the visitor's browser (cross-site
 * WebSocket hijacking, DNS rebinding), and clients that never finish a request. Each runs on
 * loopback against the real server, bounded in time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { isInet, parseAddress } from '../../src/address.js';
import { Broker } from '../../src/chat/broker.js';
import { type ChatWeb, serveChatWeb } from '../../src/chat/web.js';
import { listen } from '../../src/stream/listen.js';
import { launchChromium, NO_CHROMIUM } from '../chat/browser.js';
import { LineUser } from '../chat/line-user.js';
import { hostPort, type Running, runCli, startCli } from '../helpers.js';

/**
 * logged resolves with the server's stderr once it has a line matching `pattern`: the log and the
 * client's answer travel on different pipes, so the answer may arrive first.
 */
function logged(server: Running, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!pattern.test(server.stderr())) return;
      server.child.stderr?.off('data', check);
      resolve(server.stderr());
    };
    server.child.stderr?.on('data', check);
    check();
  });
}

/** startChat runs `chat serve` with a line listener and `--web`, and returns both ports. */
async function startChat(
  extra: string[] = [],
): Promise<{ server: Running; linePort: number; webPort: number }> {
  const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--web', '0', ...extra], {
    listens: 2,
  });
  return {
    server,
    linePort: hostPort(server.urls[0] as string).port,
    webPort: hostPort(server.urls[1] as string).port,
  };
}

/**
 * exchange sends `request` on a new connection to 127.0.0.1:`port` and resolves with all the
 * server sent until it closed the connection (it rejects if the server does not close it).
 */
function exchange(port: number, request: string | Buffer, timeout = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open: ${JSON.stringify(request).slice(0, 80)}`));
    }, timeout);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the answer still ends the exchange
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(request);
  });
}

/** upgradeRequest is a valid WebSocket handshake for `target`, with `headers` added. */
function upgradeRequest(target: string, headers: Record<string, string> = {}): string {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return (
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra.join('')}\r\n`
  );
}

/**
 * openChat opens the chat's WebSocket with `options` (an `origin`, `headers`) and resolves with
 * the first thing that happened: `welcome` once the broker greets it, or `refused STATUS`.
 */
function openChat(url: string, options: { origin?: string; headers?: Record<string, string> } = {}) {
  const ws = new WebSocket(url, options);
  ws.on('error', () => {});
  const outcome = new Promise<string>((resolve) => {
    ws.on('unexpected-response', (_request, response) => {
      resolve(`refused ${response.statusCode}`);
      ws.terminate();
    });
    ws.on('message', (data) => {
      if (data.toString().startsWith('* welcome')) resolve('welcome');
    });
    ws.on('close', (code) => resolve(`closed ${code}`));
  });
  return { ws, outcome };
}

describe('malformed HTTP requests at chat serve --web', { timeout: 30_000 }, () => {
  test('a batch of malformed requests gets 400 each, and the broker still serves browsers and nc', async () => {
    const { server, linePort, webPort } = await startChat();
    try {
      // Request targets that `new URL` rejects: a lone `[`, a port over 65535, a bad percent-escape.
      const badTargets = [
        'http://[/',
        '//[',
        'http://[::1/chat',
        'http://127.0.0.1:65536/',
        'http://127.0.0.1:99999999999/chat',
        'http://[::1]:70000/chat',
        'http://exa%zzmple/',
        'http://a%00b/chat',
      ];
      for (const target of badTargets) {
        const onPage = await exchange(webPort, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.match(onPage, /^HTTP\/1\.1 400 /, `GET ${target}`);
        const onUpgrade = await exchange(webPort, upgradeRequest(target));
        assert.match(onUpgrade, /^HTTP\/1\.1 400 /, `upgrade ${target}`);
      }
      // Requests the HTTP parser itself refuses.
      const garbage = [
        Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]),
        'GET / HTTP/1.1\r\nno colon here\r\n\r\n',
        'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        `GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nContent-Length: -1\r\n\r\n`,
      ];
      for (const request of garbage) assert.match(await exchange(webPort, request), /^HTTP\/1\.1 4\d\d /);
      // A valid upgrade with a bad key is refused by the WebSocket layer, as before.
      assert.match(
        await exchange(webPort, upgradeRequest('/chat').replace(/Key: .*\r\n/, 'Key: nope\r\n')),
        /^HTTP\/1\.1 400 /,
      );

      assert.equal(server.child.exitCode, null, 'the broker is still running');
      const nc = LineUser.ncat('127.0.0.1', String(linePort));
      const { ws, outcome } = openChat(`ws://127.0.0.1:${webPort}/chat?nick=survivor`);
      try {
        await nc.next(/^\* welcome/);
        assert.equal(await outcome, 'welcome');
        ws.send('still here');
        assert.equal(await nc.next(/^<survivor>/), '<survivor> still here');
        const heard = once(ws, 'message');
        nc.say('so am I');
        assert.match(String((await heard)[0]), /^<guest\d+> so am I$/);
      } finally {
        ws.terminate();
        nc.quit();
      }
    } finally {
      const result = await server.stop();
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /Error|\n\s+at /, 'no exception reached the process');
    }
  });
});

describe('cross-site WebSocket hijacking: the Origin check', { timeout: 60_000 }, () => {
  let chat: Awaited<ReturnType<typeof startChat>>;
  let url: string;
  before(async () => {
    chat = await startChat();
    url = `ws://127.0.0.1:${chat.webPort}/chat`;
  });
  after(async () => {
    const result = await chat?.server.stop();
    assert.equal(result?.code, 0, result?.stderr);
  });

  test('a WebSocket from a page of another origin is refused with 403, and the refusal logged on one line', async () => {
    const { outcome } = openChat(`${url}?nick=mallory`, { origin: 'http://evil.test' });
    assert.equal(await outcome, 'refused 403');
    const refusals = (await logged(chat.server, /refused/))
      .split('\n')
      .filter((line) => line.includes('refused'));
    assert.equal(refusals.length, 1, chat.server.stderr());
    assert.match(
      refusals[0] as string,
      /^chat: ws 127\.0\.0\.1:\d+ refused: origin "http:\/\/evil\.test" is not this page's \(127\.0\.0\.1:\d+\)/,
    );
  });

  test("the page's own origin, as 127.0.0.1 or localhost, and a client with no Origin are accepted", async () => {
    const own = openChat(`${url}?nick=own`, { origin: `http://127.0.0.1:${chat.webPort}` });
    const local = openChat(`${url}?nick=local`, {
      origin: `http://localhost:${chat.webPort}`,
      headers: { host: `localhost:${chat.webPort}` },
    });
    const script = openChat(`${url}?nick=script`); // ws sends no Origin: not a browser
    try {
      assert.deepEqual(await Promise.all([own.outcome, local.outcome, script.outcome]), [
        'welcome',
        'welcome',
        'welcome',
      ]);
    } finally {
      for (const { ws } of [own, local, script]) ws.terminate();
    }
  });

  test('Origin null, a malformed Origin, another port or scheme-less tricks are refused', async () => {
    const attempts = [
      { origin: 'null' },
      { origin: 'not a url' },
      { origin: `http://127.0.0.1:${chat.webPort + 1}` },
      { origin: `http://127.0.0.1:${chat.webPort}.evil.test` },
      {
        origin: `http://127.0.0.1:${chat.webPort}`,
        headers: { host: `evil.test@127.0.0.1:${chat.webPort}` },
      },
      { origin: 'http://\u009b2J.test' },
    ];
    for (const options of attempts) {
      assert.equal(await openChat(url, options).outcome, 'refused 403', JSON.stringify(options));
    }
    const raw = [...chat.server.stderr()].filter((c) => c === '\u001b' || (c >= '\u0080' && c <= '\u009f'));
    assert.deepEqual(raw, [], 'the log escapes what a client sent');
  });

  test('DNS rebinding: a page whose own name points at 127.0.0.1 is refused, though Origin and Host agree', async () => {
    const rebound = `rebound.test:${chat.webPort}`;
    const { outcome } = openChat(url, { origin: `http://${rebound}`, headers: { host: rebound } });
    assert.equal(await outcome, 'refused 403');
    await logged(chat.server, /refused: origin "http:\/\/rebound\.test:\d+" reached a loopback address/);
  });

  test('--allow-origin admits the origins named, and * admits any', async () => {
    const [named, anyone] = await Promise.all([
      startChat(['--allow-origin', 'https://chat.example', '--allow-origin', 'http://friend.test:8080/']),
      startChat(['--allow-origin', '*']),
    ]);
    try {
      const at = `ws://127.0.0.1:${named.webPort}/chat`;
      assert.equal(await openChat(at, { origin: 'https://chat.example' }).outcome, 'welcome');
      assert.equal(await openChat(at, { origin: 'http://friend.test:8080' }).outcome, 'welcome');
      assert.equal(await openChat(at, { origin: 'http://friend.test:8081' }).outcome, 'refused 403');
      const open = `ws://127.0.0.1:${anyone.webPort}/chat`;
      assert.equal(await openChat(open, { origin: 'null' }).outcome, 'welcome');
      assert.equal(await openChat(open, { origin: 'http://evil.test' }).outcome, 'welcome');
    } finally {
      await Promise.all([named.server.stop(), anyone.server.stop()]);
    }
  });

  test('--allow-origin takes only an http(s) origin or *, and only with --web', async () => {
    const serve = ['chat', 'serve', 'tcp://127.0.0.1:0'];
    const [badScheme, withPath, withoutWeb] = await Promise.all([
      runCli([...serve, '--web', '0', '--allow-origin', 'ftp://x']),
      runCli([...serve, '--web', '0', '--allow-origin', 'http://x/path']),
      runCli([...serve, '--allow-origin', '*']),
    ]);
    for (const result of [badScheme, withPath]) {
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^sockkit: --allow-origin: invalid origin ".*": expected http:\/\/HOST/m);
    }
    assert.equal(withoutWeb.code, 2, withoutWeb.stderr);
    assert.match(withoutWeb.stderr, /^sockkit: --allow-origin: needs --web$/m);
  });
});

describe('cross-site WebSocket hijacking, in headless Chromium', {
  skip: NO_CHROMIUM,
  timeout: 30_000,
}, () => {
  let browser: Browser;
  let evil: Server;
  let evilOrigin: string;
  let target = '';
  before(async () => {
    browser = await launchChromium(['--host-resolver-rules=MAP rebound.test 127.0.0.1']);
    // Another site: a page on another loopback port whose script opens the chat's WebSocket.
    evil = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><script>
        const seen = [];
        const ws = new WebSocket(${JSON.stringify(target)});
        ws.onopen = () => seen.push('open');
        ws.onmessage = (m) => {
          seen.push(String(m.data));
          if (String(m.data).startsWith('* welcome')) window.result = seen.join('\\n');
        };
        ws.onclose = (c) => { seen.push('close ' + c.code); window.result ??= seen.join('\\n'); };
      </script>`);
    });
    evil.listen(0, '127.0.0.1');
    await once(evil, 'listening');
    evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser?.close();
    evil?.close();
  });

  /** visit opens the other site's page, aimed at `webPort`, and resolves with what its script saw. */
  async function visit(webPort: number): Promise<string> {
    target = `ws://127.0.0.1:${webPort}/chat?nick=mallory`;
    const page: Page = await browser.newPage();
    try {
      await page.goto(`${evilOrigin}/`);
      await page.waitForFunction(() => (window as unknown as { result?: string }).result !== undefined);
      return await page.evaluate(() => (window as unknown as { result: string }).result);
    } finally {
      await page.close();
    }
  }

  test("another site's page cannot join the chat in the visitor's browser; with --allow-origin it can", async () => {
    const chat = await startChat();
    const nc = LineUser.ncat('127.0.0.1', String(chat.linePort));
    try {
      await nc.next(/^\* welcome/);
      assert.equal(await visit(chat.webPort), 'close 1006');
      await logged(chat.server, new RegExp(`refused: origin "${evilOrigin}" is not this page's`));
      nc.say('/who');
      assert.match(await nc.next(/^\* #lobby:/), /^\* #lobby: guest\d+$/, 'mallory never joined');
    } finally {
      nc.quit();
      await chat.server.stop();
    }

    const allowed = await startChat(['--allow-origin', evilOrigin]);
    try {
      assert.match(await visit(allowed.webPort), /^open\n\* welcome, mallory! /);
      assert.doesNotMatch(allowed.server.stderr(), /refused/);
    } finally {
      await allowed.server.stop();
    }
  });

  test('DNS rebinding: the chat page loaded as http://rebound.test:PORT/ (resolved to 127.0.0.1) is refused', async () => {
    const chat = await startChat();
    const page = await browser.newPage();
    try {
      await page.goto(`http://rebound.test:${chat.webPort}/`);
      await page.fill('#nick', 'mallory');
      await page.click('#join button');
      await page.waitForFunction(() => document.getElementById('status')?.textContent === '· disconnected');
      await logged(chat.server, /refused: origin "http:\/\/rebound\.test:\d+" reached a loopback address/);
    } finally {
      await page.close();
      await chat.server.stop();
    }
  });
});

describe('HTTP clients that never finish a request at the chat web front end', { timeout: 30_000 }, () => {
  const requestTimeout = 400;
  let broker: Broker;
  let web: ChatWeb;
  let port: number;
  before(async () => {
    broker = await Broker.start({ floodRate: 0 });
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
    assert.ok(isInet(listener.address));
    port = listener.address.port;
    web = serveChatWeb(broker, [listener], { requestTimeout });
  });
  after(async () => {
    await web?.close();
    await broker?.close();
  });

  const descriptors = (): number => readdirSync('/proc/self/fd').length;

  /**
   * settled waits (bounded, 3 s) until this process's descriptors are back to `target`: a closed
   * socket's descriptor is released a turn of the event loop after its 'close'.
   */
  async function settled(target: number): Promise<number> {
    const deadline = Date.now() + 3000;
    while (descriptors() > target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return descriptors();
  }

  /** attacker connects and runs `misbehave`; it resolves with the time until the server closed it, and what it sent. */
  function attacker(misbehave: (socket: Socket) => void): Promise<{ ms: number; reply: string }> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const started = Date.now();
      let reply = '';
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString('latin1');
      });
      socket.on('error', () => {});
      socket.once('connect', () => misbehave(socket));
      // Bounded: a server that never closes it fails the test's assertions instead of hanging it.
      const bound = setTimeout(() => socket.destroy(), requestTimeout + 5000);
      socket.once('close', () => {
        clearTimeout(bound);
        resolve({ ms: Date.now() - started, reply });
      });
    });
  }

  test('partial headers, a byte at a time, or a second request never finished: each is closed at requestTimeout', async (t) => {
    const before = descriptors();
    const dribblers: NodeJS.Timeout[] = [];
    const attacks = [
      ...Array.from({ length: 10 }, () => attacker((s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n'))),
      ...Array.from({ length: 5 }, () =>
        attacker((s) => {
          // Slowloris: a byte every 50 ms keeps the connection busy, never complete.
          const bytes = `GET /chat HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(1000)}`;
          let at = 0;
          const timer = setInterval(() => s.write(bytes.charAt(at++ % bytes.length)), 50);
          dribblers.push(timer);
          s.once('close', () => clearInterval(timer));
        }),
      ),
      ...Array.from({ length: 5 }, () =>
        attacker((s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n')),
      ),
    ];
    const results = await Promise.all(attacks);
    for (const timer of dribblers) clearInterval(timer);
    for (const { ms, reply } of results) {
      assert.ok(ms >= requestTimeout - 50, `closed after ${ms} ms, before the timeout`);
      assert.ok(ms < requestTimeout + 2000, `closed after ${ms} ms`);
      assert.match(reply, /HTTP\/1\.1 408 Request Timeout\r\n/);
    }
    const worst = Math.max(...results.map((r) => r.ms));
    const after = await settled(before);
    t.diagnostic(
      `${attacks.length} stalled clients closed after at most ${worst} ms; fds ${before} -> ${after}`,
    );
    assert.equal(after, before, 'descriptors back to where they were');
  });

  test('a WebSocket outlives requestTimeout: only HTTP requests are bound by it', async () => {
    const { ws, outcome } = openChat(`ws://127.0.0.1:${port}/chat?nick=patient`);
    try {
      assert.equal(await outcome, 'welcome');
      // A stalled client dropped after the WebSocket opened proves requestTimeout has passed.
      await attacker((s) => s.write('GET / HTTP/1.1\r\n'));
      ws.send('/who');
      const [reply] = (await once(ws, 'message')) as [Buffer];
      assert.equal(reply.toString(), '* #lobby: patient');
    } finally {
      ws.terminate();
    }
  });
});
