import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { benchJson } from '../bench/bench-json.js';
import { runCli } from '../helpers.js';

/** HOLD_MS is how long the holding server keeps all but the first reply of a read, unless more requests come. */
const HOLD_MS = 200;

/**
 * holdingServer answers `PING\r\n` with `+PONG\r\n`, but of the requests in one read it answers
 * the first at once and holds the others until more requests come, or HOLD_MS has passed. It
 * counts the reads that came while it held replies: a client that sends only once every reply of
 * its batch is back never makes one.
 */
async function holdingServer(): Promise<{
  url: string;
  stats: { reads: number; readsWhileHolding: number };
}> {
  const stats = { reads: 0, readsWhileHolding: 0 };
  const server: Server = createServer((socket) => {
    let held = 0;
    let timer: NodeJS.Timeout | undefined;
    let pending = '';
    const release = (): void => {
      clearTimeout(timer);
      if (held > 0 && !socket.destroyed) socket.write('+PONG\r\n'.repeat(held));
      held = 0;
    };
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let requests = 0;
      for (let at = pending.indexOf('\r\n'); at >= 0; at = pending.indexOf('\r\n')) {
        pending = pending.slice(at + 2);
        requests += 1;
      }
      if (requests === 0) return;
      stats.reads += 1;
      if (held > 0) stats.readsWhileHolding += 1;
      release();
      socket.write('+PONG\r\n');
      held = requests - 1;
      if (held > 0) timer = setTimeout(release, HOLD_MS);
    });
    socket.on('error', () => {});
    socket.on('close', () => clearTimeout(timer));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, stats };
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

const PING = ['--request', 'PING\\r\\n', '--expect', '+PONG\\r\\n'];

describe('bench --batch', { timeout: 30_000 }, () => {
  test('sends the next --depth requests only once every reply of the batch is back', async () => {
    const { url, stats } = await holdingServer();
    const { summary, code, stderr } = await benchJson([
      url,
      ...PING,
      '-c',
      '2',
      '-d',
      '4',
      '--batch',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(summary.batch, true);
    assert.ok(summary.messages >= 8, `${summary.messages} replies`);
    assert.equal(summary.mismatches, 0);
    assert.equal(stats.readsWhileHolding, 0, `${stats.reads} reads`);
  });

  test('without --batch, each reply sends one more request at once (the depth is refilled)', async () => {
    const { url, stats } = await holdingServer();
    const { code, stderr, summary } = await benchJson([url, ...PING, '-c', '2', '-d', '4', '-t', '1s']);
    assert.equal(code, 0, stderr);
    assert.equal(summary.batch, false);
    assert.ok(stats.readsWhileHolding > 0, `${stats.reads} reads`);
  });

  test('--batch is for the closed loop on stream sockets', async () => {
    const [rate, udp] = await Promise.all([
      runCli(['bench', 'tcp://127.0.0.1:9', '--batch', '-d', '4', '--rate', '100']),
      runCli(['bench', 'udp://127.0.0.1:9', '--batch', '-d', '4']),
    ]);
    assert.equal(rate.code, 2);
    assert.equal(
      rate.stderr,
      'sockkit: bench: --batch applies to the closed loop (depth), not with a rate\n',
    );
    assert.equal(udp.code, 2);
    assert.match(
      udp.stderr,
      /^sockkit: bench: --batch applies to tcp:\/\/, unix: or tls:\/\/ addresses only/,
    );
  });
});
