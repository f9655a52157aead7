import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { benchJson } from '../bench/bench-json.js';
import { type Service, startLengthPrefixedServer, startMemcached } from '../bench/servers.js';
import { type RedisServer, startRedisServer, stopRedisServer } from '../chat/redis-server.js';
import { runCli, tempDir } from '../helpers.js';

const bench = benchJson;

const redisCli = (port: number, ...args: string[]): Promise<string> =>
  promisify(execFile)('redis-cli', ['-p', String(port), ...args]).then((r) => r.stdout.trim());

describe('bench --request against redis-server', { timeout: 60_000 }, () => {
  const dir = tempDir();
  let redis: RedisServer;
  let url: string;
  before(async () => {
    redis = await startRedisServer(dir.path);
    url = `tcp://127.0.0.1:${redis.port}`;
  });
  after(async () => {
    await stopRedisServer(redis);
    dir.remove();
  });

  const ping = ['--request', 'PING\\r\\n', '--expect', '+PONG\\r\\n'];

  test('loads PING with 50 connections, each reply checked against +PONG', async () => {
    const { summary, code, stderr } = await bench([url, ...ping, '-c', '50', '-t', '1s']);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 50, JSON.stringify(summary));
    assert.equal(summary.mismatches, 0);
    assert.equal(summary.errors, 0);
    assert.equal(summary.lost, 0);
    assert.equal(
      summary.bytes,
      (summary.messages + summary.late) * 7,
      'every reply counted, the late ones too',
    );
  });

  for (const [connections, batch, how] of [
    [4, false, 'refilled as replies come'],
    [50, true, 'in batches, as redis-benchmark -P 16 sends them'],
  ] as const) {
    test(`pipelines 16 requests per connection, ${how}`, async () => {
      const { summary, code, stderr } = await bench([
        url,
        ...ping,
        '-c',
        String(connections),
        '-d',
        '16',
        ...(batch ? ['--batch'] : []),
        '-t',
        '1s',
      ]);
      assert.equal(code, 0, stderr);
      assert.deepEqual([summary.depth, summary.batch], [16, batch]);
      assert.ok(summary.messages > connections * 16);
      assert.deepEqual([summary.mismatches, summary.errors, summary.lost], [0, 0, 0]);
    });
  }

  test('SET then GET with the connection number substituted, each GET checked against its own value', async () => {
    const set = await bench([
      url,
      '--request',
      'SET key:{conn} value-{conn}\\r\\n',
      '--expect',
      '+OK\\r\\n',
      '-c',
      '4',
      '-t',
      '500ms',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(await redisCli(redis.port, 'GET', 'key:3'), 'value-3');
    const get = await bench([
      url,
      '--request',
      'GET key:{conn}\\r\\n',
      '--expect',
      '$7\\r\\nvalue-{conn}\\r\\n',
      '-c',
      '4',
      '-t',
      '500ms',
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.ok(get.summary.messages > 4);
    assert.equal(get.summary.mismatches, 0);
    // The same replies checked against the wrong substitution all fail.
    const wrong = await bench([
      url,
      '--request',
      'GET key:{conn}\\r\\n',
      '--expect',
      '$7\\r\\nvalue-{seq}\\r\\n',
      '-c',
      '2',
      '-t',
      '300ms',
    ]);
    assert.equal(wrong.code, 1);
    assert.ok(wrong.summary.mismatches > 0);
  });

  test('sends the requests of a file in turn, with sequence and random substitutions', async () => {
    await redisCli(redis.port, 'FLUSHALL');
    const file = `${dir.path}/requests.txt`;
    writeFileSync(file, 'INCR hits:{conn}\\r\\n\nSADD seen {rand:50}\\r\\n\nSET last:{conn} {seq}\\r\\n\n');
    const { summary, code, stderr } = await bench([
      url,
      '--requests',
      file,
      '--frame',
      'line',
      '--expect-match',
      '^(:\\d+|\\+OK)\\r\\n$',
      '-c',
      '3',
      '-d',
      '3',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(summary.mismatches, 0);
    const hits = await Promise.all([0, 1, 2].map((c) => redisCli(redis.port, 'GET', `hits:${c}`)));
    const incrs = hits.reduce((sum, h) => sum + Number(h), 0);
    // Every third request is an INCR, the first on each connection included.
    assert.ok(Math.abs(incrs - summary.messages / 3) <= 3, `${incrs} INCRs of ${summary.messages}`);
    const seen = Number(await redisCli(redis.port, 'SCARD', 'seen'));
    assert.ok(seen > 10 && seen <= 50, `${seen} distinct random values`);
    const last = Number(await redisCli(redis.port, 'GET', 'last:0'));
    assert.equal(last % 3, 2, `the sequence number of a SET is 2 mod 3: ${last}`);
  });
});

describe('bench --request against memcached', { timeout: 30_000 }, () => {
  const dir = tempDir();
  let memcached: Service;
  before(async () => {
    memcached = await startMemcached();
  });
  after(async () => {
    await memcached.stop();
    dir.remove();
  });

  test('loads `version`, one line each way', async () => {
    const { summary, code, stderr } = await bench([
      memcached.url,
      '--request',
      'version\\r\\n',
      '--frame',
      'line',
      '--expect-match',
      '^VERSION \\d',
      '-c',
      '8',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 8);
    assert.equal(summary.mismatches, 0);
  });

  test('set with --frame line, then get checked whole against what each connection stored', async () => {
    const set = await bench([
      memcached.url,
      '--request',
      'set k{conn} 0 0 5\\r\\nhello\\r\\n',
      '--frame',
      'line',
      '--expect',
      'STORED\\r\\n',
      '-c',
      '3',
      '-t',
      '500ms',
    ]);
    assert.equal(set.code, 0, set.stderr);
    const get = await bench([
      memcached.url,
      '--request',
      'get k{conn}\\r\\n',
      '--expect',
      'VALUE k{conn} 0 5\\r\\nhello\\r\\nEND\\r\\n',
      '-c',
      '3',
      '-t',
      '500ms',
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.ok(get.summary.messages > 3);
    assert.equal(get.summary.mismatches, 0);
  });
});

describe('bench --request against a length-prefixed server in Python', { timeout: 40_000 }, () => {
  let server: Service;
  const dir = tempDir();
  before(async () => {
    server = await startLengthPrefixedServer();
  });
  after(async () => {
    await server.stop();
    dir.remove();
  });

  test('frames each request with a 2-byte length and checks each reply payload', async () => {
    const { summary, code, stderr } = await bench([
      server.url,
      '--frame',
      'len16',
      '--request',
      'ping {conn}.{seq}',
      '--expect',
      'ok:ping {conn}.{seq}',
      '-c',
      '4',
      '-d',
      '4',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 16);
    assert.equal(summary.mismatches, 0);
  });

  test('counts replies that differ, shows the first few hex-dumped, and fails the run', async () => {
    const result = await runCli([
      'bench',
      server.url,
      '--frame',
      'len16',
      '--request',
      'ping',
      '--expect',
      'ok:pong',
      '-c',
      '2',
      '-t',
      '300ms',
    ]);
    assert.equal(result.code, 1);
    const out = result.stdout.toString();
    assert.match(out, /first 3 of [\d,]+ mismatched replies:/);
    assert.match(out, /expected 'ok:pong', got 7 B 'ok:ping'/);
    assert.match(out, /0000 {2}6f 6b 3a 70 69 6e 67/);
    assert.match(
      result.stderr,
      /^sockkit: bench tcp:\/\/127\.0\.0\.1:\d+: [\d,]+ repl(?:y|ies) failed the check\n$/,
    );
    const json = await bench([
      server.url,
      '--frame',
      'len16',
      '--request',
      'ping',
      '--expect',
      'ok:pong',
      '-t',
      '300ms',
    ]);
    assert.equal(json.summary.mismatch_samples[0].received_hex, Buffer.from('ok:ping').toString('hex'));
  });

  test('shows slow replies in open-loop percentiles that the closed loop hides', async () => {
    const file = `${dir.path}/mix.txt`;
    writeFileSync(file, `${'fast\n'.repeat(19)}slow\n`);
    const args = [
      server.url,
      '--frame',
      'len16',
      '--requests',
      file,
      '--expect-match',
      '^ok:',
      '-t',
      '1500ms',
    ];
    const closed = await bench(args);
    const open = await bench([...args, '--rate', '200']);
    assert.equal(closed.code, 0, closed.stderr);
    assert.equal(open.code, 0, open.stderr);
    const c = closed.summary.latency_us;
    const o = open.summary.latency_us;
    assert.ok(c.p99 >= 50_000, `closed loop p99 ${c.p99} µs shows the 50 ms requests`);
    // One slow request in 20 holds up the ~10 due behind it in the open loop: half a second's worth
    // of requests wait, and the 90th percentile shows it; in the closed loop it does not.
    assert.ok(o.p90 >= 20_000, `open loop p90 ${o.p90} µs`);
    assert.ok(o.p90 > 3 * c.p90, `open p90 ${o.p90} µs vs closed p90 ${c.p90} µs`);
  });
});

describe('bench --request against a hostile server', { timeout: 30_000 }, () => {
  test('a server that floods fails its connections as protocol errors, and the run still reports', async () => {
    const junk = Buffer.alloc(64 << 10, 0x41);
    const server = createServer((socket) => {
      socket.on('error', () => {});
      const flood = (): void => {
        while (socket.writable && socket.write(junk));
        if (socket.writable) socket.once('drain', flood);
      };
      flood();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const end of [
        ['--frame', 'line'],
        ['--reply-size', '10'],
        ['--frame', 'len32'],
      ]) {
        const { summary, code } = await bench([url, '--request', 'GET\\r\\n', ...end, '-c', '3', '-t', '2s']);
        assert.equal(code, 1, end.join(' '));
        assert.equal(summary.errors_by_kind.protocol, 3, `${end.join(' ')}: ${JSON.stringify(summary)}`);
        assert.ok(summary.duration_s < 2, 'the run ends once no connection is left');
      }
    } finally {
      server.close();
    }
  });

  test('says where a reply ends is needed, as a usage error', async () => {
    const result = await runCli(['bench', 'tcp://127.0.0.1:9', '--request', 'PING\\r\\n']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sockkit: bench: say where each reply ends: --frame/);
    const bad = await runCli(['bench', 'tcp://127.0.0.1:9', '--request', 'x\\q', '--reply-size', '1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--request: unknown escape "\\q"/);
  });
});
