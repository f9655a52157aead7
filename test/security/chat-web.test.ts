/**
 * Attacks on the chat's web front end (`chat serve --web`): malformed requests that once killed the
 * broker, and clients that never finish a request. Each runs on loopback against the real
 * server, bounded in time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { isInet, parseAddress } from '../../src/address.js';
import { Broker } from '../../src/chat/broker.js';
import { type ChatWeb, serveChatWeb } from '../../src/chat/web.js';
import { listen } from '../../src/stream/listen.js';
import { LineUser } from '../chat/line-user.js';
import { hostPort, type Running, startCli } from '../helpers.js';

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
