/**
 * `sockkit forward` and `sockkit relay` with WebSocket endpoints, driven from the command line by
 * peers nobody here wrote: wscat, headless Chromium (skipped without /usr/bin/chromium) and the
 * `ws` package; a browser that never reads; the flags refused where they mean nothing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { WebSocket } from 'ws';
import { formatAddress } from '../../src/address.js';
import { launchChromium, NO_CHROMIUM } from '../chat/browser.js';
import { runCli, startCli } from '../helpers.js';
import { startEcho, wscat } from '../websocket/servers.js';
import { echoTarget } from './peers.js';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

/** vmRss is the resident memory of process `pid`, in bytes. */
function vmRss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
}

/**
 * assertHeldBack waits until `count` (bytes a peer got rid of) stops moving for half a second
 * (looking every 25 ms, 10 s at most: a peer held back has no event to wait on), then asserts that
 * fewer than 64 MiB went through and that forward (`pid`) grew by less than 48 MiB since `before`.
 */
async function assertHeldBack(
  t: { diagnostic(message: string): void },
  what: string,
  count: () => number,
  pid: number,
  before: number,
): Promise<void> {
  let still = 0;
  let last = -1;
  for (let look = 0; look < 400 && still < 20; look += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    still = count() === last ? still + 1 : 0;
    last = count();
  }
  const grown = vmRss(pid) - before;
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  t.diagnostic(`${what} ${mib(count())} MiB; forward VmRSS grew ${mib(grown)} MiB`);
  assert.ok(count() < 64 * 2 ** 20, `${what} ${count()} bytes: nothing held it back`);
  assert.ok(grown < 48 * 2 ** 20, `forward grew by ${grown} bytes`);
}

describe('forward ws:// with real WebSocket clients', () => {
  test('wscat speaks to a TCP echo through forward ws://', BOUND, async () => {
    const target = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await startCli(['forward', 'ws://127.0.0.1:0/', formatAddress(target.address)]);
    try {
      const run = await wscat(['-c', fwd.urls[0] as string, '-x', 'hello wörld', '-w', '1']);
      assert.equal(run.code, 0);
      assert.equal(run.stdout.trim(), 'hello wörld');
    } finally {
      const stopped = await fwd.stop();
      assert.equal(stopped.code, 0);
      assert.match(stopped.stderr, /forwarded 1 WebSocket client, 12 B to targets, 12 B back/);
      await target.close();
    }
  });

  test('a page of another origin is refused (403), and forward says why', BOUND, async () => {
    const target = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await startCli(['forward', 'ws://127.0.0.1:0/', formatAddress(target.address)]);
    try {
      const page = new WebSocket(fwd.urls[0] as string, { origin: 'https://evil.example.test' });
      page.on('error', () => {});
      const [, response] = (await once(page, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(response.statusCode, 403);
      page.terminate();
      await fwd.waitFor(
        /limit handshake-failed 127\.0\.0\.1:\d+: refused: origin "https:\/\/evil\.example\.test"/,
      );
    } finally {
      const stopped = await fwd.stop();
      assert.match(stopped.stderr, /forwarded 0 WebSocket clients/);
      assert.equal(target.served, 0);
      await target.close();
    }
  });

  test('a client that never reads holds a busy target back: forward memory stays bounded', {
    timeout: 20_000,
  }, async (t) => {
    // A target that sends as fast as it may, up to 1 GiB, and counts what it got rid of.
    let written = 0;
    const limit = 1 << 30;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const sockets: Socket[] = [];
    const target = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      const pump = (): void => {
        while (written < limit && !socket.destroyed) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    }).listen(0, '127.0.0.1');
    await once(target, 'listening');
    const { port } = target.address() as AddressInfo;
    const fwd = await startCli(['forward', 'ws://127.0.0.1:0/', `tcp://127.0.0.1:${port}`]);
    const pid = fwd.child.pid as number;
    const before = vmRss(pid);
    const client = new WebSocket(fwd.urls[0] as string);
    await once(client, 'open');
    client.pause(); // never reads again: the kernel's buffers fill, then forward's
    try {
      await assertHeldBack(t, 'the target wrote', () => written, pid, before);
    } finally {
      client.terminate();
      for (const socket of sockets) socket.destroy();
      target.close();
      await fwd.stop();
    }
  });
});

test('a WebSocket client that floods a target that never reads is held back: forward memory stays bounded', {
  timeout: 20_000,
}, async (t) => {
  const held: Socket[] = [];
  const target = createServer((socket) => {
    held.push(socket);
    socket.pause();
  }).listen(0, '127.0.0.1');
  await once(target, 'listening');
  const { port } = target.address() as AddressInfo;
  const fwd = await startCli(['forward', 'ws://127.0.0.1:0/', `tcp://127.0.0.1:${port}`]);
  const pid = fwd.child.pid as number;
  const before = vmRss(pid);
  const client = new WebSocket(fwd.urls[0] as string);
  client.on('error', () => {});
  await once(client, 'open');
  let sent = 0;
  const message = Buffer.alloc(256 * 1024, 0x62);
  // Up to 1 GiB, four messages in flight: each is counted once the socket took it.
  const pump = (): void => {
    if (sent < 2 ** 30 && client.readyState === client.OPEN)
      client.send(message, (err) => {
        if (err) return;
        sent += message.length;
        pump();
      });
  };
  for (let i = 0; i < 4; i += 1) pump();
  try {
    await assertHeldBack(t, 'the client sent', () => sent, pid, before);
  } finally {
    client.terminate();
    for (const socket of held) socket.destroy();
    target.close();
    await fwd.stop();
  }
});

describe('forward ws:// with headless Chromium', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  /** The page's script: send text and 1 MiB of binary, read the bytes back, close with 1000. */
  async function exchange(url: string): Promise<{ same: boolean; length: number; code: number }> {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const received: Uint8Array[] = [];
    let length = 0;
    let waiting: (() => void) | undefined;
    ws.onmessage = (event) => {
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      received.push(bytes);
      length += bytes.length;
      waiting?.();
    };
    const closed = new Promise<number>((resolve) => {
      ws.onclose = (event) => resolve(event.code);
    });
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error('not opened'));
    });
    const text = new TextEncoder().encode('hello from the page, ✓');
    const binary = new Uint8Array(1 << 20);
    for (let i = 0; i < binary.length; i += 1) binary[i] = (i * 31) & 0xff;
    ws.send('hello from the page, ✓');
    ws.send(binary);
    const total = text.length + binary.length;
    while (length < total) await new Promise<void>((resolve) => (waiting = resolve));
    const all = new Uint8Array(length);
    let at = 0;
    for (const part of received) {
      all.set(part, at);
      at += part.length;
    }
    const expected = new Uint8Array(total);
    expected.set(text, 0);
    expected.set(binary, text.length);
    ws.close(1000);
    return { same: all.every((b, i) => b === expected[i]), length, code: await closed };
  }

  test('a page of an allowed origin exchanges text and 1 MiB through a TCP echo', BOUND, async () => {
    const pages = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    }).listen(0, '127.0.0.1');
    await once(pages, 'listening');
    const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    const target = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await startCli([
      'forward',
      'ws://127.0.0.1:0/',
      formatAddress(target.address),
      '--allow-origin',
      origin,
    ]);
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      const result = await page.evaluate(exchange, fwd.urls[0] as string);
      assert.deepEqual(result, { same: true, length: (1 << 20) + 24, code: 1000 });
    } finally {
      await page.close();
      pages.close();
      const stopped = await fwd.stop();
      assert.match(stopped.stderr, /forwarded 1 WebSocket client, 1\.0 MiB to targets, 1\.0 MiB back/);
      await target.close();
    }
  });
});

describe('relay and forward with ws:// from the command line', () => {
  test('relay - ws:// sends stdin as binary messages and prints what comes back', BOUND, async () => {
    const echo = await startEcho();
    try {
      const run = await runCli(['relay', '-', echo.url], { input: 'line one\nline two\n' });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString(), 'line one\nline two\n');
    } finally {
      await echo.close();
    }
  });

  test('flags of a side that is not a WebSocket are usage errors', BOUND, async () => {
    const results = await Promise.all([
      runCli(['forward', 'tcp://127.0.0.1:0', 'tcp://127.0.0.1:9', '--allow-origin', 'https://a.test']),
      runCli(['forward', 'ws://127.0.0.1:0/', 'tcp://127.0.0.1:9', '-H', 'Authorization: x']),
      runCli(['forward', 'ws://127.0.0.1:0/', 'tcp://127.0.0.1:9', '--target-insecure']),
      runCli(['forward', 'ws://127.0.0.1:0/', 'tcp://127.0.0.1:9', '--hexdump']),
    ]);
    assert.deepEqual(
      results.map((r) => [r.code, r.stderr.trim()]),
      [
        [
          2,
          'sockkit: forward: --allow-origin applies to ws:// or wss:// addresses only, not tcp://127.0.0.1:0',
        ],
        [2, 'sockkit: --header: needs a ws:// or wss:// target (it goes in the upgrade request)'],
        [2, 'sockkit: --target-insecure: needs a tls:// or wss:// target'],
        [2, 'sockkit: forward: --hexdump, --dump and --pcap see tcp, tls, unix and udp clients, not ws'],
      ],
    );
  });
});
