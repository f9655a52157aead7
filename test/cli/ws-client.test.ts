/**
 * `sockkit connect ws://` and `sockkit send ws://` against a `ws` server (the package's own
 * server, not sockkit's): messages both ways, headers, close codes, keepalive with a peer that
 * stops answering, and --reconnect with its preamble.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { runCli, startCli } from '../helpers.js';
import { wsServer } from '../websocket/servers.js';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

describe('sockkit WebSocket clients with a ws server as the peer', () => {
  test(
    'connect sends each stdin line as one text message and prints each message received',
    BOUND,
    async () => {
      const peer = await wsServer();
      const received: string[] = [];
      peer.server.on('connection', (ws: WebSocket) => {
        ws.on('message', (data, binary) => {
          received.push(`${binary ? 'binary' : 'text'}:${data.toString()}`);
          ws.send(`re:${data.toString()}`);
          ws.send(Buffer.from([0x00, 0xff]), { binary: true });
        });
      });
      try {
        const run = await runCli(['connect', `ws://127.0.0.1:${peer.port}/`], {
          input: 'one\ntwo\r\n\nlast',
        });
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(received, ['text:one', 'text:two', 'text:', 'text:last']);
        const expected = Buffer.concat(
          ['one', 'two', '', 'last'].map((m) =>
            Buffer.concat([Buffer.from(`re:${m}\n`), Buffer.from([0, 255])]),
          ),
        );
        assert.deepEqual(run.stdout, expected);
      } finally {
        await peer.close();
      }
    },
  );

  test('connect --binary sends stdin as binary messages, every byte intact', BOUND, async () => {
    const peer = await wsServer();
    const chunks: Buffer[] = [];
    peer.server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, binary) => {
        assert.ok(binary);
        chunks.push(data);
      });
    });
    try {
      const input = Buffer.alloc(3 << 20);
      for (let i = 0; i < input.length; i += 1) input[i] = (i * 7) & 0xff;
      const run = await runCli(['connect', `ws://127.0.0.1:${peer.port}/`, '--binary'], { input });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(Buffer.concat(chunks).equals(input));
    } finally {
      await peer.close();
    }
  });

  test('--header, --subprotocol and --origin reach the server', BOUND, async () => {
    const peer = await wsServer({ handleProtocols: (offered: Set<string>) => [...offered].at(-1) ?? false });
    try {
      const connected = once(peer.server, 'connection');
      const run = await runCli([
        'send',
        `ws://127.0.0.1:${peer.port}/path?q=1`,
        'hi',
        '-H',
        'Authorization: Bearer t0k3n',
        '--header',
        'X-Trace:abc',
        '--subprotocol',
        'a.v1',
        '--subprotocol',
        'b.v2',
        '--origin',
        'http://localhost:3000',
        '--timeout',
        '1s',
      ]);
      const [ws, request] = (await connected) as [WebSocket, IncomingMessage];
      assert.equal(ws.protocol, 'b.v2');
      assert.equal(request.url, '/path?q=1');
      assert.equal(request.headers.authorization, 'Bearer t0k3n');
      assert.equal(request.headers['x-trace'], 'abc');
      assert.equal(request.headers['sec-websocket-protocol'], 'a.v1,b.v2');
      assert.equal(request.headers.origin, 'http://localhost:3000');
      assert.equal(run.code, 1, 'the peer never replied');
      assert.match(run.stderr, /^sockkit: send ws:\/\/127\.0\.0\.1:\d+\/path\?q=1: timed out\n$/);
    } finally {
      await peer.close();
    }
  });

  test('send prints the first reply and closes with 1000', BOUND, async () => {
    const peer = await wsServer();
    const closes: number[] = [];
    peer.server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data) => ws.send(`[${data.toString()}]`));
      ws.on('close', (code) => closes.push(code));
    });
    try {
      const run = await runCli(['send', `ws://127.0.0.1:${peer.port}/`, 'hello']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.toString(), '[hello]\n');
      while (closes.length === 0) await once(peer.clients[0] as WebSocket, 'close');
      assert.deepEqual(closes, [1000]);
    } finally {
      await peer.close();
    }
  });

  test('send to a server that closes without replying fails with its close code', BOUND, async () => {
    const peer = await wsServer();
    peer.server.on('connection', (ws: WebSocket) => ws.on('message', () => ws.close(4000, 'no thanks')));
    try {
      const run = await runCli(['send', `ws://127.0.0.1:${peer.port}/`, 'hello']);
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr,
        `sockkit: send ws://127.0.0.1:${peer.port}/: the server closed without replying (closed with code 4000 "no thanks")\n`,
      );
    } finally {
      await peer.close();
    }
  });

  test('-v shows the close code and reason; a close with an error code fails connect', BOUND, async () => {
    const peer = await wsServer();
    peer.server.on('connection', (ws: WebSocket) => ws.on('message', () => ws.close(1011, 'server broke')));
    try {
      const run = await runCli(['connect', `ws://127.0.0.1:${peer.port}/`, '-v'], { input: 'x\n' });
      const url = `ws://127.0.0.1:${peer.port}/`;
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr,
        `sockkit: ${url}: closed with code 1011 "server broke"\n` +
          `sockkit: connect ${url}: closed with code 1011 "server broke"\n`,
      );
    } finally {
      await peer.close();
    }
  });

  test(
    '--ping-interval drops a server that stops answering pings, with a dead-peer error',
    BOUND,
    async () => {
      const peer = await wsServer({ autoPong: false });
      try {
        const client = await startCli(
          ['connect', `ws://127.0.0.1:${peer.port}/`, '--ping-interval', '100ms', '--ping-timeout', '300ms'],
          { listens: 0, stdin: 'pipe' },
        );
        const result = await client.done;
        assert.equal(result.code, 1);
        assert.match(
          result.stderr,
          /^sockkit: connect ws:\/\/127\.0\.0\.1:\d+\/: no answer to a ping within 300ms: the peer is gone \(dead-peer timeout\)\n$/,
        );
      } finally {
        await peer.close();
      }
    },
  );

  test(
    '--reconnect connects again after a drop, sends --preamble again each time, and backs off',
    BOUND,
    async () => {
      const peer = await wsServer();
      const sessions: string[][] = [];
      const opened: number[] = [];
      peer.server.on('connection', (ws: WebSocket) => {
        const messages: string[] = [];
        sessions.push(messages);
        opened.push(Date.now());
        ws.on('message', (data) => {
          messages.push(data.toString());
          // The first two connections are dropped as soon as the preamble is in: a flapping server.
          if (sessions.length <= 2 && messages.length === 2) ws.terminate();
          else ws.send(`ack ${data.toString()}`);
        });
      });
      const client = await startCli(
        [
          'connect',
          `ws://127.0.0.1:${peer.port}/`,
          '--reconnect',
          '--preamble',
          'auth t0k3n',
          '--preamble',
          'sub ticks',
        ],
        { listens: 0, stdin: 'pipe' },
      );
      try {
        await client.waitFor(/^ack sub ticks$/m, 'stdout', 10_000);
        client.child.stdin?.write('after\n');
        await client.waitFor(/^ack after$/m, 'stdout');
        client.child.stdin?.end();
        const result = await client.done;
        assert.equal(result.code, 0, result.stderr);
        assert.equal(sessions.length, 3);
        for (const session of sessions) assert.deepEqual(session.slice(0, 2), ['auth t0k3n', 'sub ticks']);
        assert.deepEqual(sessions[2], ['auth t0k3n', 'sub ticks', 'after']);
        assert.equal((result.stderr.match(/connecting again in/g) ?? []).length, 2);
        assert.match(result.stderr, /connecting again in 500ms[\s\S]*connecting again in 1s/);
        // Back-off, not a spin: at least 0.5 s, then 1 s, between the connections.
        assert.ok((opened[1] as number) - (opened[0] as number) >= 450);
        assert.ok((opened[2] as number) - (opened[1] as number) >= 950);
      } finally {
        await client.stop();
        await peer.close();
      }
    },
  );

  test('--reconnect keeps trying while nobody listens, then connects', BOUND, async () => {
    const peer = await wsServer();
    const port = peer.port;
    await peer.close();
    const client = await startCli(
      ['connect', `ws://127.0.0.1:${port}/`, '--reconnect', '--preamble', 'hello'],
      {
        listens: 0,
        stdin: 'pipe',
      },
    );
    try {
      await client.waitFor(/connection refused; connecting again in 500ms/, 'stderr', 8000);
      const back = await wsServer({ port });
      const hello = new Promise<string>((resolve) =>
        back.server.on('connection', (ws: WebSocket) =>
          ws.once('message', (data) => resolve(data.toString())),
        ),
      );
      assert.equal(await hello, 'hello');
      client.child.stdin?.end();
      assert.equal((await client.done).code, 0);
      await back.close();
    } finally {
      await client.stop();
    }
  });

  test('--reconnect still ends when stdin ends, even while nobody listens', BOUND, async () => {
    const peer = await wsServer();
    const port = peer.port;
    await peer.close();
    const client = await startCli(['connect', `ws://127.0.0.1:${port}/`, '--reconnect'], {
      listens: 0,
      stdin: 'pipe',
    });
    try {
      await client.waitFor(/connecting again in 500ms/);
      client.child.stdin?.end();
      const result = await client.done;
      assert.equal(result.code, 1);
      assert.match(result.stderr, /connection refused \(is a server listening there\?\)\n$/);
      assert.doesNotMatch(result.stderr, /connecting again in 1s/, 'it stopped at the end of stdin');
    } finally {
      await client.stop();
    }
  });

  test('a refused connection is one line, exit 1; a usage error exit 2', BOUND, async () => {
    const peer = await wsServer();
    const port = peer.port;
    await peer.close();
    const refused = await runCli(['connect', `ws://127.0.0.1:${port}/`]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `sockkit: connect ws://127.0.0.1:${port}/: connection refused (is a server listening there?)\n`,
    );
    const badHeader = await runCli(['connect', `ws://127.0.0.1:${port}/`, '-H', 'no colon']);
    assert.equal(badHeader.code, 2);
    assert.match(badHeader.stderr, /^sockkit: --header: "no colon" is not NAME:VALUE/);
    const tcpWithWsFlag = await runCli(['connect', `tcp://127.0.0.1:${port}`, '--reconnect']);
    assert.equal(tcpWithWsFlag.code, 2);
    assert.match(
      tcpWithWsFlag.stderr,
      /^sockkit: connect: --reconnect applies to ws:\/\/ or wss:\/\/ addresses only, not tcp:/,
    );
  });
});
