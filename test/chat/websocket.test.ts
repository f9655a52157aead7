import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { isInet, parseAddress } from '../../src/address.js';
import { Broker } from '../../src/chat/broker.js';
import { serveChatWeb } from '../../src/chat/web.js';
import { listen } from '../../src/stream/listen.js';
import { hostPort, startCli } from '../helpers.js';
import { LineUser } from './line-user.js';

/** open connects a WebSocket chat user and resolves once it is welcomed. */
async function open(url: string): Promise<{ ws: WebSocket; lines: string[] }> {
  const ws = new WebSocket(url);
  const lines: string[] = [];
  ws.on('message', (data) => lines.push(data.toString()));
  await once(ws, 'open');
  while (!lines.some((l) => l.startsWith('* welcome'))) await once(ws, 'message');
  return { ws, lines };
}

describe('the chat WebSocket endpoint', { timeout: 30_000 }, () => {
  test('a message over --max-line closes that WebSocket with 1009, and the room is told', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--web', '0', '--max-line', '100'], {
      listens: 2,
    });
    const web = `ws://127.0.0.1:${hostPort(server.urls[1] as string).port}/chat?nick=big`;
    const watcher = LineUser.ncat('127.0.0.1', String(hostPort(server.urls[0] as string).port));
    try {
      await watcher.next(/^\* welcome/);
      const { ws } = await open(web);
      ws.send('y'.repeat(500));
      const [code] = (await once(ws, 'close')) as [number];
      assert.equal(code, 1009);
      assert.equal(await watcher.next(/^\* big left/), '* big left #lobby (line too long)');
    } finally {
      watcher.quit();
      await server.stop();
    }
  });

  test('a WebSocket client that stops reading is dropped as too slow, and the room carries on', async () => {
    const server = await startCli(
      ['chat', 'serve', 'tcp://127.0.0.1:0', '--web', '0', '--max-queue', '64KiB', '--flood-rate', '0', '-v'],
      { listens: 2 },
    );
    const port = hostPort(server.urls[0] as string).port;
    const web = `ws://127.0.0.1:${hostPort(server.urls[1] as string).port}/chat?nick=sloth`;
    const talker = LineUser.socket('127.0.0.1', port);
    const reader = LineUser.socket('127.0.0.1', port);
    try {
      await reader.next(/^\* welcome/);
      talker.say('/nick talker');
      const { ws } = await open(web);
      ws.pause(); // stop reading the socket: the broker's queue for it fills
      const dropped = reader.next(/^\* sloth left #lobby \(too slow/, 30_000);
      let gone = false;
      dropped.then(
        () => {
          gone = true;
        },
        () => {},
      );
      const line = 'z'.repeat(1000);
      for (let sent = 0; !gone && sent < 40_000; sent++) {
        await talker.sayAndWait(`${sent} ${line}`);
        if (sent % 200 === 199) {
          await reader.next(new RegExp(`^<talker> ${sent} `), 10_000);
          reader.lines.length = 0;
        }
      }
      await dropped;
      talker.say('carry on');
      await reader.next(/^<talker> carry on$/, 10_000);
      ws.terminate();
    } finally {
      talker.quit();
      reader.quit();
      const result = await server.stop();
      assert.match(result.stderr, /chat: sloth disconnected: too slow/);
    }
  });

  test('a farewell longer than a close frame holds (non-ASCII too) is cut to 123 bytes, not thrown', async () => {
    const broker = await Broker.start();
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
    assert.ok(isInet(listener.address));
    const web = serveChatWeb(broker, [listener]);
    try {
      const { ws } = await open(`ws://127.0.0.1:${listener.address.port}/chat?nick=zoe`);
      const closing = once(ws, 'close') as Promise<[number, Buffer]>;
      await broker.close(`arrêt du serveur ${'é'.repeat(100)}`);
      const [code, reason] = await closing;
      assert.equal(code, 1000);
      assert.equal(reason.toString(), `arrêt du serveur ${'é'.repeat(52)}`);
      assert.ok(reason.length <= 123);
    } finally {
      await web.close();
      await broker.close();
    }
  });
});
