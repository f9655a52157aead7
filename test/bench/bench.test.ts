import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { bench } from '../../src/bench/bench.js';
import { SockkitError, TimeoutError } from '../../src/errors.js';
import { type Running, runCli, startCli, tempDir } from '../helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field in the tests
type Json = Record<string, any>;

/** summaryOf parses `sockkit bench --json` output: the interval lines and the final summary. */
function summaryOf(stdout: Buffer): { intervals: Json[]; summary: Json } {
  const lines = stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Json);
  const summary = lines.pop() as Json;
  assert.equal(summary.type, 'summary');
  return { intervals: lines, summary };
}

function listening(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('sockkit bench against sockkit echo', () => {
  let echo: Running;
  const dir = tempDir();
  before(async () => {
    echo = await startCli(['echo', 'tcp://127.0.0.1:0', `unix:${dir.path}/echo.sock`], { listens: 2 });
  });
  after(async () => {
    await echo.stop();
    dir.remove();
  });

  test('reports a clean tcp run as JSON: one line a second, then the summary', async () => {
    const url = echo.urls[0] as string;
    const result = await runCli(['bench', url, '-c', '4', '-d', '2', '-t', '1.2s', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { intervals, summary } = summaryOf(result.stdout);
    assert.equal(intervals.length, 1);
    assert.equal(intervals[0]?.type, 'interval');
    for (const key of [
      'messages_per_second',
      'bytes_per_second',
      'mismatches',
      'errors',
      'lost',
      'duration_s',
    ]) {
      assert.equal(typeof summary[key], 'number', key);
    }
    assert.ok(summary.messages > 0);
    assert.equal(summary.mismatches, 0);
    assert.equal(summary.errors, 0);
    assert.equal(summary.connections, 4);
    assert.equal(summary.size, 64);
    assert.equal(summary.depth, 2);
    const { p50, p90, p99, p999, max } = summary.latency_us;
    assert.ok(
      p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max && max > 0,
      JSON.stringify(summary.latency_us),
    );
  });

  test('loads a unix socket with 64 KiB messages spread over two worker threads', async () => {
    const url = echo.urls[1] as string;
    const result = await runCli([
      'bench',
      url,
      '-c',
      '2',
      '-s',
      '64KiB',
      '-d',
      '2',
      '--threads',
      '2',
      '-t',
      '1s',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { summary } = summaryOf(result.stdout);
    assert.equal(summary.threads, 2);
    assert.ok(summary.messages > 0);
    assert.equal(summary.bytes_per_second >= summary.messages_per_second * 65536 * 0.9, true);
    assert.equal(summary.mismatches, 0);
  });

  test('counts connections per second with --reconnect, and the open loop keeps its rate', async () => {
    const url = echo.urls[0] as string;
    const churn = await runCli(['bench', url, '-c', '2', '--reconnect', '-t', '1s', '--json']);
    assert.equal(churn.code, 0, churn.stderr);
    assert.ok(summaryOf(churn.stdout).summary.connections_per_second > 0);
    const open = await runCli(['bench', url, '-c', '2', '--rate', '500', '-t', '1s', '--json']);
    assert.equal(open.code, 0, open.stderr);
    const { summary } = summaryOf(open.stdout);
    assert.equal(summary.rate, 500);
    assert.ok(
      summary.messages >= 400 && summary.messages <= 520,
      `sent ${summary.messages} at 500/s for 1 s`,
    );
  });

  test('prints a human summary without --json', async () => {
    const result = await runCli(['bench', echo.urls[0] as string, '-t', '300ms']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.toString(), /latency +p50 \d+/);
    assert.match(result.stdout.toString(), /0 mismatches, 0 errors/);
    assert.equal(result.stderr, '', 'no progress line when stderr is not a terminal');
  });
});

describe('sockkit bench catches faults', () => {
  test('a server that flips a byte is reported as mismatches, and the run exits 1', async () => {
    let seen = 0;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        if (seen < 1000 && seen + chunk.length >= 1000)
          chunk[999 - seen] = (chunk[999 - seen] as number) ^ 0x55;
        seen += chunk.length;
        socket.write(chunk);
      });
    });
    const port = await listening(server);
    try {
      const result = await runCli(['bench', `tcp://127.0.0.1:${port}`, '-t', '500ms', '--json']);
      assert.equal(result.code, 1);
      const { summary } = summaryOf(result.stdout);
      assert.equal(summary.mismatches, 1);
      assert.match(result.stderr, /^sockkit: bench tcp:\/\/127\.0\.0\.1:\d+: 1 echoed message differed/m);
    } finally {
      server.close();
    }
  });

  test('a udp server that drops, repeats and corrupts datagrams shows lost, duplicated and mismatches', async () => {
    const server = createSocket('udp4');
    let n = 0;
    server.on('message', (message, peer) => {
      n += 1;
      if (n % 50 === 0) return; // dropped
      if (n % 70 === 0) message[message.length - 1] = (message[message.length - 1] as number) ^ 1;
      server.send(message, peer.port, peer.address);
      if (n % 60 === 0) server.send(message, peer.port, peer.address); // duplicated
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const report = await bench({
        address: parseAddress(`udp://127.0.0.1:${server.address().port}`),
        connections: 4,
        duration: 700,
        lossTimeout: 100,
      });
      assert.ok(report.messages > 0);
      assert.ok(report.lost > 0, `lost ${report.lost}`);
      assert.ok(report.duplicated > 0, `duplicated ${report.duplicated}`);
      assert.ok(report.mismatches > 0, `mismatches ${report.mismatches}`);
    } finally {
      server.close();
    }
  });

  test('a refused connection is one line naming the address, exit 1; a bad flag is exit 2', async () => {
    const server = createServer();
    const port = await listening(server);
    await new Promise((resolve) => server.close(resolve));
    const refused = await runCli(['bench', `tcp://127.0.0.1:${port}`, '-t', '1s']);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr.trim(),
      `sockkit: connect tcp://127.0.0.1:${port}: connection refused (is a server listening there?)`,
    );
    const usage = await runCli(['bench', 'udp://127.0.0.1:9', '--size', '4']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--size for udp/);
  });
});

describe('sockkit bench against sockkit echo over udp and tls', () => {
  test('a udp run against sockkit echo loses, repeats and reorders nothing', async () => {
    const echo = await startCli(['echo', 'udp://127.0.0.1:0']);
    try {
      const result = await runCli([
        'bench',
        echo.urls[0] as string,
        '-c',
        '4',
        '-d',
        '2',
        '-t',
        '700ms',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const { summary } = summaryOf(result.stdout);
      assert.ok(summary.messages > 0);
      assert.deepEqual([summary.mismatches, summary.lost, summary.duplicated, summary.errors], [0, 0, 0, 0]);
    } finally {
      await echo.stop();
    }
  });

  test('tls needs --insecure for a self-signed server, then checks every byte and counts handshakes', async () => {
    const echo = await startCli(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    try {
      const url = echo.urls[0] as string;
      const refused = await runCli(['bench', url, '-t', '300ms']);
      assert.equal(refused.code, 1);
      // The sentence dial gives (the one table in errors.ts), not OpenSSL's words.
      assert.equal(
        refused.stderr,
        `sockkit: connect ${url}: certificate verification failed: self-signed certificate\n`,
      );
      const result = await runCli([
        'bench',
        url,
        '-c',
        '2',
        '--insecure',
        '--reconnect',
        '-t',
        '700ms',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const { summary } = summaryOf(result.stdout);
      assert.ok(summary.connections_per_second > 0);
      assert.equal(summary.mismatches, 0);
    } finally {
      await echo.stop();
    }
  });
});

describe('the open loop measures from the intended send time', () => {
  /** stallingServer echoes, except that once, after `after` bytes, it holds everything for `stall` ms. */
  async function stallingServer(after: number, stall: number): Promise<Server> {
    const server = createServer((socket) => {
      let seen = 0;
      let held: Buffer[] | undefined;
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        seen += chunk.length;
        if (held) return void held.push(chunk);
        if (seen >= after && seen - chunk.length < after) {
          held = [chunk];
          setTimeout(() => {
            socket.write(Buffer.concat(held ?? []));
            held = undefined;
          }, stall);
          return;
        }
        socket.write(chunk);
      });
    });
    await listening(server);
    return server;
  }

  test('a 300 ms stall shows in every message due during it, not just the one in flight', async () => {
    const openServer = await stallingServer(64 * 50, 300);
    const closedServer = await stallingServer(64 * 50, 300);
    try {
      const address = (s: Server) => parseAddress(`tcp://127.0.0.1:${(s.address() as AddressInfo).port}`);
      const open = await bench({ address: address(openServer), rate: 200, duration: 1200 });
      const closed = await bench({ address: address(closedServer), duration: 1200 });
      assert.equal(open.mismatches + closed.mismatches, 0);
      assert.ok(open.latencyUs.max >= 250_000 && closed.latencyUs.max >= 250_000, 'both see the stall');
      // About 60 of the open loop's 240 messages were due during the stall; the closed loop sent one.
      assert.ok(open.latencyUs.p90 >= 100_000, `open loop p90 ${open.latencyUs.p90} µs`);
      // In the closed loop the stall is one message among many: below the stall, not a tenth of them.
      assert.ok(closed.latencyUs.p90 < 250_000, `closed loop p90 ${closed.latencyUs.p90} µs`);
    } finally {
      openServer.close();
      closedServer.close();
    }
  });
});

describe('bench over worker threads', () => {
  test("a worker's connect error keeps its class, code and errno across the thread boundary", {
    timeout: 9000,
  }, async () => {
    // A tls:// bench against a plain server that reads and never answers: every TLS handshake times out.
    const silent = createServer((socket) => socket.on('error', () => {}).resume());
    const port = await listening(silent);
    try {
      await assert.rejects(
        bench({
          address: parseAddress(`tls://127.0.0.1:${port}`),
          connections: 2,
          threads: 2,
          connectTimeout: 300,
          duration: 500,
        }),
        (err: Error) => {
          assert.ok(err instanceof TimeoutError, `${err.name}: ${err.message}`);
          assert.equal(err.code, 'ERR_TIMEOUT');
          assert.equal(err.message, `connect tls://127.0.0.1:${port}: timed out`);
          return true;
        },
      );
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
    const refused = createServer();
    const closedPort = await listening(refused);
    await new Promise((resolve) => refused.close(resolve));
    await assert.rejects(
      bench({
        address: parseAddress(`tcp://127.0.0.1:${closedPort}`),
        connections: 2,
        threads: 2,
        duration: 500,
      }),
      (err: Error) => {
        assert.ok(err instanceof SockkitError, `${err.name}: ${err.message}`);
        assert.equal(err.code, 'ERR_CONNECTION_REFUSED');
        assert.equal(err.errno, 'ECONNREFUSED');
        assert.equal(err.message, `connect tcp://127.0.0.1:${closedPort}: connection refused`);
        return true;
      },
    );
  });
});
