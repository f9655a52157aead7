/**
 * `sockkit bench ws://`: every message that comes back is checked, against sockkit's own echo
 * and against `ws` servers that echo, corrupt, or send what nobody asked for.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import { runCli, startCli } from '../helpers.js';
import { wsServer } from '../websocket/servers.js';

/** Each test's bound: it waits on events, so this is only reached when something hangs. */
const BOUND = { timeout: 10_000 };

interface Summary {
  messages: number;
  mismatches: number;
  errors: number;
  errors_by_kind: Record<string, number>;
}

function summaryOf(stdout: Buffer): Summary {
  return JSON.parse(stdout.toString().trim().split('\n').at(-1) as string) as Summary;
}

describe('bench ws://', () => {
  test('in the open loop, messages go out on the timetable the rate sets', BOUND, async () => {
    const server = await startCli(['echo', 'ws://127.0.0.1:0/echo']);
    try {
      const run = await runCli([
        'bench',
        server.urls[0] as string,
        '-c',
        '2',
        '--rate',
        '200',
        '-t',
        '1s',
        '--json',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const summary = summaryOf(run.stdout);
      // 200 a second for 1 s: the timetable, not the echo's pace, sets the count.
      assert.ok(summary.messages >= 100 && summary.messages <= 200, `${summary.messages} messages`);
      assert.equal(summary.mismatches, 0);
    } finally {
      await server.stop();
    }
  });

  test('against sockkit echo ws://: messages come back, every byte checked, exit 0', BOUND, async () => {
    const server = await startCli(['echo', 'ws://127.0.0.1:0/echo']);
    try {
      const run = await runCli([
        'bench',
        server.urls[0] as string,
        '-c',
        '4',
        '-s',
        '4KiB',
        '-d',
        '2',
        '-t',
        '1s',
        '--json',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const summary = summaryOf(run.stdout);
      assert.ok(summary.messages > 0);
      assert.equal(summary.mismatches, 0);
      assert.equal(summary.errors, 0);
    } finally {
      await server.stop();
    }
  });

  test('a server that changes one byte is caught: mismatches, exit 1', BOUND, async () => {
    const peer = await wsServer();
    peer.server.on('connection', (ws: WebSocket) => {
      let n = 0;
      ws.on('message', (data: Buffer) => {
        n += 1;
        const copy = Buffer.from(data);
        if (n === 3) copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 1;
        ws.send(copy);
      });
    });
    try {
      const run = await runCli(['bench', `ws://127.0.0.1:${peer.port}/`, '-t', '1s', '--json']);
      assert.equal(run.code, 1);
      assert.equal(summaryOf(run.stdout).mismatches, 1);
      assert.match(run.stderr, /1 echoed message differed from what was sent/);
    } finally {
      await peer.close();
    }
  });

  test('a server that answers each message twice fails the run', BOUND, async () => {
    const peer = await wsServer();
    peer.server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer) => {
        ws.send(data);
        ws.send(data); // twice
      });
    });
    try {
      const run = await runCli(['bench', `ws://127.0.0.1:${peer.port}/`, '-t', '1s', '--json']);
      assert.equal(run.code, 1);
      // The second answer reads as the echo of the next message (a mismatch), or, when it
      // comes before that message is sent, as a message nobody sent (a protocol error).
      const summary = summaryOf(run.stdout);
      assert.ok(summary.mismatches + (summary.errors_by_kind.protocol ?? 0) > 0, JSON.stringify(summary));
    } finally {
      await peer.close();
    }
  });

  test('--reconnect measures WebSocket handshakes per second', BOUND, async () => {
    const server = await startCli(['echo', 'ws://127.0.0.1:0/']);
    try {
      const run = await runCli(['bench', server.urls[0] as string, '--reconnect', '-c', '2', '-t', '1s']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout.toString(), /connects +[\d,]+\/s \(connect, one echo, close\)/);
      assert.match(run.stdout.toString(), /0 mismatches, 0 errors/);
    } finally {
      await server.stop();
    }
  });
});
