import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ChatEvent } from '../../src/chat/hub.js';
import { RedisHub } from '../../src/chat/redis-hub.js';
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

/** stopRedis stops a redis-server started by startRedis, unless it already exited. */
async function stopRedis(redis: { child: ChildProcess } | undefined): Promise<void> {
  if (!redis || redis.child.exitCode !== null || redis.child.signalCode !== null) return;
  redis.child.kill();
  await once(redis.child, 'exit');
}

/** within rejects, naming `what`, if `promise` has not settled after `ms` milliseconds. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
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
    await stopRedis(redis);
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

describe('a chat broker that dies', { timeout: 30_000 }, () => {
  test('its users are seen to leave once its lease runs out, and their nicks are free again', async () => {
    const dir = tempDir();
    const started: Running[] = [];
    const users: LineUser[] = [];
    let redis: { url: string; child: ChildProcess } | undefined;
    const user = (broker: Running): LineUser => {
      const created = LineUser.ncat('127.0.0.1', String(hostPort(broker.urls[0] as string).port));
      users.push(created);
      return created;
    };
    try {
      redis = await startRedis(dir.path);
      const serve = ['chat', 'serve', 'tcp://127.0.0.1:0', '--redis', redis.url, '--redis-lease', '1s'];
      const one = await startCli(serve);
      started.push(one);
      const two = await startCli(serve);
      started.push(two);

      const alice = user(one);
      alice.say('/nick alice');
      await alice.next(/is now known as alice$/);
      alice.say('/join #ops');
      await alice.next(/^\* alice joined #ops$/);
      const bob = user(two);
      bob.say('/nick bob');
      await bob.next(/is now known as bob$/);
      bob.say('/join #ops');
      await alice.next(/^\* bob joined #ops$/);
      bob.say('/who #ops');
      assert.equal(await bob.next(/^\* #ops:/), '* #ops: alice, bob');

      two.child.kill('SIGKILL'); // no shutdown: bob's entries stay in Redis until the lease runs out
      await alice.next(/^\* bob left #ops \(connection lost\)$/, 4000);
      alice.say('/who');
      assert.equal(await alice.next(/^\* #ops:/), '* #ops: alice');

      const carol = user(one);
      carol.say('/nick bob');
      assert.match(
        await carol.next(/is now known as bob$|nick bob is taken/),
        /^\* guest\d+ is now known as bob$/,
      );
      alice.say('/list');
      assert.equal(await alice.next(/^\* rooms:/), '* rooms: #lobby (1), #ops (1)');
      for (const each of users) each.quit(); // so the shutdown need not wait out --grace
      const result = await one.stop();
      assert.equal(result.code, 0, result.stderr);
    } finally {
      for (const each of users) each.quit();
      await Promise.all(started.map((broker) => broker.stop()));
      await stopRedis(redis);
      dir.remove();
    }
  });
});

describe('RedisHub leases', { timeout: 30_000 }, () => {
  const dir = tempDir();
  let redis: { url: string; child: ChildProcess } | undefined;
  let raw: Redis | undefined;
  before(async () => {
    redis = await startRedis(dir.path);
    raw = new Redis({ path: redis.url.slice('unix:'.length) });
  });
  after(async () => {
    raw?.disconnect();
    await stopRedis(redis);
    dir.remove();
  });

  test('a nick held by a broker whose lease ran out is free, and its members are not listed', async () => {
    const url = redis?.url as string;
    const a = await RedisHub.connect(url, { prefix: 'expired:', lease: 60_000 });
    const b = await RedisHub.connect(url, { prefix: 'expired:', lease: 60_000 });
    try {
      assert.equal(await a.claimNick('Bob'), true);
      await a.enterRoom('#ops', 'Bob');
      assert.equal(await b.claimNick('bob'), false);
      assert.equal(await b.hasNick('BOB'), true);
      assert.deepEqual(await b.members('#ops'), ['Bob']);
      assert.deepEqual(await b.rooms(), [{ room: '#ops', members: 1 }]);

      await raw?.del(`expired:broker:${a.id}`); // as if a had stopped refreshing its heartbeat
      assert.equal(await b.hasNick('bob'), false);
      assert.deepEqual(await b.members('#ops'), []);
      assert.deepEqual(await b.rooms(), []);
      assert.equal(await b.claimNick('bob'), true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    assert.deepEqual(await raw?.keys('expired:*'), [], 'close removes everything a broker held');
  });

  test('a broker whose entries were lost writes them back and announces its members', async () => {
    const url = redis?.url as string;
    const a = await RedisHub.connect(url, { prefix: 'lost:', lease: 300 });
    const b = await RedisHub.connect(url, { prefix: 'lost:', lease: 300 });
    try {
      let joined: (event: ChatEvent) => void = () => {};
      const rejoined = new Promise<ChatEvent>((resolve) => {
        joined = resolve;
      });
      await b.subscribe((event) => {
        if (event.kind === 'join') joined(event);
      });
      assert.equal(await a.claimNick('carol'), true);
      await a.enterRoom('#x', 'carol');

      // As if Redis had restarted without its data, or a had been taken for dead and cleaned up.
      const keys = (await raw?.keys('lost:*')) ?? [];
      await raw?.del(...keys);
      assert.deepEqual(await within(rejoined, 3000, 'join event'), {
        kind: 'join',
        room: '#x',
        nick: 'carol',
      });
      assert.equal(await b.hasNick('carol'), true);
      assert.equal(await b.claimNick('carol'), false);
      assert.deepEqual(await b.members('#x'), ['carol']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('refuses to start next to the unleased directory of an older sockkit', async () => {
    await raw?.sadd('old:nicks', 'bob');
    await assert.rejects(RedisHub.connect(redis?.url as string, { prefix: 'old:' }), {
      name: 'SockkitError',
      code: 'ERR_PROTOCOL',
      message: /^connect unix:.*: redis: old:nicks holds an older sockkit's directory; stop the old brokers/,
    });
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

  test('rejects a --redis-lease under 100ms as a usage error', async () => {
    const result = await runCli(['chat', 'serve', '--redis', 'redis://127.0.0.1:1', '--redis-lease', '50ms']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'sockkit: --redis-lease: must be from 100ms to 24.8 days (got 50ms)\n');
  });
});
