import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { serveDemoPage } from '../../src/cli/commands/demo/web.js';
import { listen } from '../../src/index.js';
import { hostPort, type Running, startCli } from '../helpers.js';

/** Debian's chromium: the tests never download a browser. */
const CHROMIUM = '/usr/bin/chromium';

/** Row is one drawn step of the page's sequence diagram. */
interface Row {
  step: string;
  lane: string;
  arrow: string;
}

/** runFromButton presses the demo's button and resolves with the diagram's rows once it is done. */
async function runFromButton(page: Page, kind: string): Promise<Row[]> {
  await page.waitForSelector('body[data-state="ready"], body[data-state="done"]', { timeout: 8000 });
  await page.click(`#run-${kind}`);
  await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: 8000 });
  assert.equal(
    await page.getAttribute('body', 'data-state'),
    'done',
    (await page.textContent('#story')) ?? '',
  );
  return page.$$eval('#diagram .row', (groups) =>
    groups.map((g) => ({
      step: (g as SVGElement).dataset.step ?? '',
      lane: (g as SVGElement).dataset.lane ?? '',
      arrow: (g as SVGElement).dataset.arrow ?? '',
    })),
  );
}

/** openSocket opens a WebSocket to the demo page's endpoint with `headers`, and says how the handshake went. */
function openSocket(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', () => resolve({ status: 0 }));
  });
}

/** next resolves with the next message of `ws` that satisfies `wanted`, parsed. */
function next(
  ws: WebSocket,
  wanted: (m: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (!wanted(message)) return;
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
    ws.once('close', () => reject(new Error('closed')));
  });
}

describe('the demo page', { timeout: 60_000 }, () => {
  let server: Running;
  let port: number;
  let page: string;
  before(async () => {
    server = await startCli(['demo', '--web']);
    port = hostPort(server.urls[0] as string).port;
    page = `http://127.0.0.1:${port}/`;
  });
  after(async () => {
    const result = await server?.stop();
    assert.equal(result?.code, 0, result?.stderr);
  });

  test('is self-contained: one response, its own script and style only, no framing', {
    timeout: 8000,
  }, async () => {
    const response = await fetch(page);
    assert.equal(response.status, 200);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/);
    assert.match(policy, /connect-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    const html = await response.text();
    assert.match(html, /<title>sockkit demo<\/title>/);
    assert.doesNotMatch(html, /<script src|<link |https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.equal((await fetch(`${page}nope`)).status, 404);
    assert.equal((await fetch(page, { method: 'POST' })).status, 405);
    const localhost = await fetch(`http://localhost:${port}/`);
    assert.equal(localhost.status, 200);
  });

  test('refuses a WebSocket from another origin, or without one: 403, and no demo runs', {
    timeout: 8000,
  }, async () => {
    const url = `ws://127.0.0.1:${port}/ws`;
    const forged: Array<Record<string, string>> = [
      { Origin: 'http://evil.test' },
      { Origin: `http://127.0.0.1:${port + 1}` },
      { Origin: 'null' },
      {},
    ];
    for (const headers of forged) {
      const { status } = await openSocket(url, headers);
      assert.equal(status, 403, JSON.stringify(headers));
    }
    // DNS rebinding: a site whose name now points at 127.0.0.1 has matching Host and Origin.
    const rebound = await openSocket(url, {
      Host: `rebound.test:${port}`,
      Origin: `http://rebound.test:${port}`,
    });
    assert.equal(rebound.status, 403);
    assert.equal(await statusWithHost(port, `rebound.test:${port}`), 421);
    assert.equal(await statusWithHost(port, `127.0.0.1:${port}`), 200);
    assert.match(
      server.stderr(),
      /^sockkit: demo page: refused a WebSocket from "http:\/\/evil\.test": Origin "http:\/\/evil\.test" is not this page's/m,
    );
    assert.doesNotMatch(server.stderr(), /Error|at .*\.js/);
  });

  test('answers a malformed request with a refusal and keeps serving', { timeout: 8000 }, async () => {
    const { status, ws } = await openSocket(`ws://127.0.0.1:${port}/ws`, {
      Origin: `http://127.0.0.1:${port}`,
    });
    assert.equal(status, 101);
    assert.ok(ws);
    for (const bad of [
      'not json',
      '[]',
      '{"run":"sctp"}',
      '{"run":"tcp","message":""}',
      Buffer.from([1, 2, 3]),
    ]) {
      const refused = next(ws, (m) => m.type === 'refused');
      ws.send(bad, { binary: Buffer.isBuffer(bad) });
      assert.match(String((await refused).reason), /./);
    }
    const ended = next(ws, (m) => m.type === 'end');
    ws.send(JSON.stringify({ run: 'udp', message: 'via ws' }));
    const busy = next(ws, (m) => m.type === 'refused');
    ws.send(JSON.stringify({ run: 'tcp' }));
    assert.match(String((await busy).reason), /a demo is running/);
    assert.equal((await ended).ok, true);
    // A message over the limit closes this WebSocket (1009), and only it.
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(4096));
    assert.equal(await closed, 1009);
    assert.equal((await fetch(page)).status, 200);
  });

  describe('in headless Chromium', {
    skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`,
  }, () => {
    let browser: Browser;
    let attacker: Server;
    before(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    after(async () => {
      await browser?.close();
      attacker?.close();
    });

    test('runs the TCP demo from its button and draws its steps in order, with the bytes on hover', {
      timeout: 20_000,
    }, async () => {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      tab.on('pageerror', (err) => errors.push(err.message));
      tab.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await tab.goto(page);
      const rows = await runFromButton(tab, 'tcp');
      const steps = rows.map((row) => `${row.lane}:${row.step}`);
      const at = (step: string): number => steps.indexOf(step);
      for (const [earlier, later] of [
        ['server:created', 'server:listening'],
        ['server:listening', 'client:connecting'],
        ['client:connecting', 'server:accepted'],
        ['client:connecting', 'client:connected'],
        ['client:sent', 'server:recv'],
        ['server:recv', 'server:sent'],
        ['client:shutdown-write', 'server:peer-shutdown-write'],
      ] as const) {
        assert.ok(
          at(earlier) >= 0 && at(earlier) < at(later),
          `${earlier} before ${later}: ${steps.join(' ')}`,
        );
      }
      assert.equal(rows.at(-1)?.step, 'closed', steps.join(' '));
      assert.equal(rows.find((row) => row.step === 'accepted')?.arrow, 'yes');
      assert.equal(rows.find((row) => row.step === 'connecting')?.arrow, 'yes');
      assert.match((await tab.textContent('#story')) ?? '', /the echo is exact\./);

      await tab.hover('#diagram .row.client.data[data-step="sent"]');
      const tip = (await tab.textContent('#tip')) ?? '';
      assert.match(tip, /^\[client\] #\d+ sent 12 bytes to 127\.0\.0\.1:\d+/);
      assert.match(tip, /^0000 {2}48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 {14}Hello, world$/m);
      const shot = join(tmpdir(), `sockkit-demo-tcp-${process.pid}.png`);
      await tab.screenshot({ path: shot });
      process.stderr.write(`# screenshot: ${shot}\n`);
      assert.deepEqual(errors, []);
      await tab.close();
    });

    test('runs the UDP demo from its button: datagrams, and no connect or accept arrow at all', {
      timeout: 20_000,
    }, async () => {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await tab.goto(page);
      const rows = await runFromButton(tab, 'udp');
      const steps = rows.map((row) => `${row.lane}:${row.step}`);
      assert.ok(!steps.some((s) => /listening|accepted|connecting/.test(s)), steps.join(' '));
      // The one connect in the demo (to a port nobody serves) is local: UDP's connect sends nothing.
      for (const row of rows.filter((r) => r.step === 'connected')) assert.equal(row.arrow, 'no');
      assert.equal(rows.filter((row) => row.lane === 'client' && row.step === 'sent').length >= 3, true);
      const firstSends = steps.slice(0, steps.indexOf('server:recv'));
      assert.deepEqual(
        firstSends.filter((s) => s === 'client:sent'),
        ['client:sent', 'client:sent', 'client:sent'],
        'three datagrams leave before the server reads the first',
      );
      assert.ok(at(steps, 'client:error') > at(steps, 'client:connected'), steps.join(' '));
      assert.equal(rows.at(-1)?.step, 'closed', steps.join(' '));
      assert.match((await tab.textContent('#story')) ?? '', /boundaries kept/);
      const shot = join(tmpdir(), `sockkit-demo-udp-${process.pid}.png`);
      await tab.screenshot({ path: shot });
      process.stderr.write(`# screenshot: ${shot}\n`);
      await tab.close();
    });

    test('a page of another origin cannot open the WebSocket, so it cannot run a demo', {
      timeout: 15_000,
    }, async () => {
      attacker = createServer((_request, response) => {
        response
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><title>elsewhere</title>');
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      const other = (attacker.address() as AddressInfo).port;
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${other}/`);
      const outcome = await tab.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => {
              ws.send(JSON.stringify({ run: 'tcp' }));
              resolve('open');
            };
            ws.onerror = () => resolve('error');
            ws.onclose = () => resolve('closed');
          }),
        `ws://127.0.0.1:${port}/ws`,
      );
      assert.notEqual(outcome, 'open');
      assert.match(server.stderr(), new RegExp(`refused a WebSocket from "http://127\\.0\\.0\\.1:${other}"`));
      await tab.close();
    });
  });
});

function at(steps: readonly string[], step: string): number {
  return steps.indexOf(step);
}

/** statusWithHost requests the page from loopback with the Host header `host` (fetch cannot set it). */
function statusWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpGet({ host: '127.0.0.1', port, path: '/', headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('the demo page server, limits', { timeout: 20_000 }, () => {
  test('drops a connection that sends no whole request within the deadline', { timeout: 8000 }, async () => {
    const listener = await listen({ scheme: 'tcp', host: '127.0.0.1', port: 0 });
    const served = serveDemoPage(listener, { requestDeadline: 300 });
    const port = (listener.address as { port: number }).port;
    try {
      const silent = connect(port, '127.0.0.1');
      const dribbling = connect(port, '127.0.0.1', () => dribbling.write('GET / HTTP/1.1\r\nHo'));
      const closedAt = (socket: typeof silent): Promise<number> =>
        new Promise((resolve) => {
          socket.on('error', () => {});
          socket.once('close', () => resolve(Date.now()));
        });
      const started = Date.now();
      const [a, b] = await Promise.all([closedAt(silent), closedAt(dribbling)]);
      assert.ok(
        a - started >= 250 && b - started >= 250,
        `closed after ${a - started} and ${b - started} ms`,
      );
      // A page that completed its handshake is not held to the deadline.
      const { status, ws } = await openSocket(`ws://127.0.0.1:${port}/ws`, {
        Origin: `http://127.0.0.1:${port}`,
      });
      assert.equal(status, 101);
      const stillOpen = await new Promise<boolean>((resolve) => {
        ws?.once('close', () => resolve(false));
        // Three deadlines later, a request still gets its answer on this WebSocket.
        setTimeout(() => {
          ws?.once('message', () => resolve(true));
          ws?.send('not json');
        }, 900);
      });
      assert.equal(stillOpen, true);
      ws?.close();
    } finally {
      await served.close();
    }
  });

  test('opens at most eight pages at once; the ninth gets 503', { timeout: 8000 }, async () => {
    const listener = await listen({ scheme: 'tcp', host: '127.0.0.1', port: 0 });
    const served = serveDemoPage(listener);
    const port = (listener.address as { port: number }).port;
    try {
      const url = `ws://127.0.0.1:${port}/ws`;
      const headers = { Origin: `http://127.0.0.1:${port}` };
      const pages = await Promise.all(Array.from({ length: 8 }, () => openSocket(url, headers)));
      assert.deepEqual(
        pages.map((p) => p.status),
        Array(8).fill(101),
      );
      assert.equal((await openSocket(url, headers)).status, 503);
      for (const p of pages) p.ws?.close();
    } finally {
      await served.close();
    }
  });
});
