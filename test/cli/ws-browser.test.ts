/**
 * Headless Chromium (Debian's, through playwright-core) as the client of `sockkit echo ws://`: a
 * page served from another origin opens the WebSocket, as a web app would. Without Chromium the
 * tests are skipped with the reason.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, NO_CHROMIUM } from '../chat/browser.js';
import { startCli } from '../helpers.js';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

/** pageServer serves an empty page: the origin the browser's WebSocket comes from. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The page's script: open the WebSocket, send text, 1 MiB of binary, then close with 4000. */
async function exchange(
  url: string,
): Promise<{ opened: boolean; text?: string; binaryOk?: boolean; code: number }> {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const replies: (string | ArrayBuffer)[] = [];
  let waiting: (() => void) | undefined;
  ws.onmessage = (event) => {
    replies.push(event.data as string | ArrayBuffer);
    waiting?.();
  };
  const closed = new Promise<number>((resolve) => {
    ws.onclose = (event) => resolve(event.code);
  });
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => {
      ws.onopen = () => resolve(true);
    }),
    closed.then(() => false),
  ]);
  if (!opened) return { opened, code: await closed };
  const binary = new Uint8Array(1 << 20);
  for (let i = 0; i < binary.length; i += 1) binary[i] = (i * 31) & 0xff;
  ws.send('hello from the page');
  ws.send(binary);
  while (replies.length < 2) await new Promise<void>((resolve) => (waiting = resolve));
  const echoed = new Uint8Array(replies[1] as ArrayBuffer);
  const binaryOk = echoed.length === binary.length && echoed.every((b, i) => b === binary[i]);
  ws.close(4000, 'page done');
  return { opened, text: replies[0] as string, binaryOk, code: await closed };
}

describe('headless Chromium as a WebSocket client', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test(
    'a page of an allowed origin exchanges text and 1 MiB binary messages, then closes',
    BOUND,
    async () => {
      const app = await pageServer();
      const server = await startCli(['echo', 'ws://127.0.0.1:0/echo', '--allow-origin', app.origin]);
      const page = await browser.newPage();
      try {
        await page.goto(`${app.origin}/`);
        const result = await page.evaluate(exchange, server.urls[0] as string);
        assert.deepEqual(result, { opened: true, text: 'hello from the page', binaryOk: true, code: 4000 });
      } finally {
        await page.close();
        app.server.close();
        const stopped = await server.stop();
        assert.match(stopped.stderr, /served 1 connection, 1\.0 MiB in, 1\.0 MiB out/);
      }
    },
  );

  test('a page of another origin is refused (403), and the server says why', BOUND, async () => {
    const app = await pageServer();
    const server = await startCli(['echo', 'ws://127.0.0.1:0/echo']);
    const page = await browser.newPage();
    try {
      await page.goto(`${app.origin}/`);
      const result = await page.evaluate(exchange, server.urls[0] as string);
      assert.deepEqual(result, { opened: false, code: 1006 });
      await server.waitFor(
        new RegExp(
          `limit handshake-failed 127\\.0\\.0\\.1:\\d+: refused: origin "${app.origin}" is not this page's`,
        ),
      );
    } finally {
      await page.close();
      app.server.close();
      await server.stop();
    }
  });
});
