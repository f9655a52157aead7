import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { hostPort, type Running, runCli, startCli, tempDir } from '../helpers.js';
import { LineUser } from './line-user.js';

/** startRedis runs a real redis-server on a Unix socket in `dir`, without persistence. */
async function startRedis(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const path = `${dir}/redis.sock`;
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/ready to accept connections/i.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return { url: `unix:${path}`, child };
}

describe('two chat brokers sharing rooms through Redis', { timeout: 30_000 }, () => {
  const dir = tempDir();
  let redis: { url: string; child: ChildProcess };
  let one: Running;
  let two: Running;
  before(async () => {
    redis = await startRedis(dir.path);
    one = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--redis', redis.url]);
    two = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--redis', redis.url]);
  });
  after(async () => {
    const results = await Promise.all([one.stop(), two.stop()]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    if (redis.child.exitCode === null && redis.child.signalCode === null) {
      redis.child.kill();
      await once(redis.child, 'exit');
    }
    dir.remove();
  });

  test('users on different brokers see each other, whisper, and share nicknames and rooms', async () => {
    const alice = LineUser.ncat('127.0.0.1', String(hostPort(one.urls[0] as string).port));
    const bob = LineUser.ncat('127.0.0.1', String(hostPort(two.urls[0] as string).port));
    try {
      alice.say('/nick alice');
      await alice.next(/is now known as alice$/);
      bob.say('/nick bob');
      await alice.next(/is now known as bob$/); // broker one hears of broker two's client

      alice.say('hello from broker one');
      assert.equal(await bob.next(/^<alice>/), '<alice> hello from broker one');
      bob.say('and hello from broker two');
      assert.equal(await alice.next(/^<bob>/), '<bob> and hello from broker two');

      bob.say('/who');
      assert.equal(await bob.next(/^\* #lobby:/), '* #lobby: alice, bob');
      bob.say('/nick alice');
      assert.equal(await bob.next(/^\* nick alice is taken$/), '* nick alice is taken');
      bob.say('/msg alice across brokers');
      assert.equal(await alice.next(/^\*bob\*/), '*bob* across brokers');

      alice.say('/join #ops');
      await bob.next(/^\* alice left #lobby \(joined #ops\)$/);
      // The broker records the membership in Redis before it publishes the join, so once alice
      // hears her own join, every broker's /list counts her in #ops.
      await alice.next(/^\* alice joined #ops$/);
      bob.say('/list');
      assert.equal(await bob.next(/^\* rooms:/), '* rooms: #lobby (1), #ops (1)');
      bob.say('/join #ops');
      await alice.next(/^\* bob joined #ops$/);
      bob.say('in ops now');
      assert.equal(await alice.next(/^<bob> in ops/), '<bob> in ops now');

      bob.quit();
      await alice.next(/^\* bob left #ops \(connection closed\)$/);
      alice.say('/who');
      assert.equal(await alice.next(/^\* #ops:/), '* #ops: alice');
    } finally {
      alice.quit();
      bob.quit();
    }
  });
});

describe('chat serve --redis', { timeout: 30_000 }, () => {
  test('reports an unreachable Redis in one line and exits 1', async () => {
    const dir = tempDir();
    const result = await runCli([
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--redis',
      `unix:${dir.path}/none.sock`,
    ]);
    dir.remove();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: connect unix:.*none\.sock: redis: no such socket file \(is a server listening there\?\)\n$/,
    );
  });
});
