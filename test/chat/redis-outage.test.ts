import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { ChatEvent } from '../../src/chat/hub.js';
import { MAX_PENDING_PUBLISHES, type RedisAvailability, RedisHub } from '../../src/chat/redis-hub.js';
import { type Running, startCli, tempDir } from '../helpers.js';
import type { LineUser } from './line-user.js';
import { type RedisServer, startRedisServer, stopRedisServer } from './redis-server.js';
import { userOf, within } from './redis-suite.js';

/** stderrLine resolves once `broker` has printed `count` lines matching `match` on stderr. */
function stderrLines(broker: Running, match: RegExp, count = 1, timeout = 5000): Promise<void> {
  const enough = (): boolean =>
    broker
      .stderr()
      .split('\n')
      .filter((line) => match.test(line)).length >= count;
  if (enough()) return Promise.resolve();
  return within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (!enough()) return;
        broker.child.stderr?.off('data', check);
        resolve();
      };
      broker.child.stderr?.on('data', check);
    }),
    timeout,
    `${count} stderr line(s) matching ${match}; stderr: ${broker.stderr()}`,
  );
}

function countLines(broker: Running, match: RegExp): number {
  return broker
    .stderr()
    .split('\n')
    .filter((line) => match.test(line)).length;
}

const UNAVAILABLE =
  /^sockkit: chat: shared directory at \S+ unavailable \(.+\); serving this broker's users only/;
const BACK = /^sockkit: chat: shared directory at \S+ is back with this broker's \d+ users/;

describe('chat brokers while Redis goes away and comes back empty', { timeout: 40_000 }, () => {
  const dir = tempDir();
  let redis: RedisServer | undefined;
  const brokers: Running[] = [];
  const users: LineUser[] = [];
  after(async () => {
    for (const user of users) user.quit();
    await Promise.all(brokers.map((broker) => broker.stop()));
    await stopRedisServer(redis, 'SIGKILL');
    dir.remove();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`after ${signal}, each broker serves its users, says so once, and restores the shared directory`, {
      timeout: 20_000,
    }, async () => {
      await stopRedisServer(redis, 'SIGKILL'); // what an earlier failed test left
      redis = await startRedisServer(dir.path);
      const flags = ['--redis', `redis://127.0.0.1:${redis.port}`, '--redis-prefix', `outage-${signal}:`];
      const one = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', ...flags]);
      brokers.push(one);
      const two = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', ...flags]);
      brokers.push(two);
      const user = async (broker: Running, nick: string): Promise<LineUser> => {
        const created = userOf(broker);
        users.push(created);
        created.say(`/nick ${nick}`);
        created.say('/join #ops');
        await created.next(new RegExp(`^\\* ${nick} joined #ops$`));
        return created;
      };
      const alice = await user(one, 'alice');
      const carol = await user(one, 'carol');
      const bob = await user(two, 'bob');
      await alice.next(/^\* bob joined #ops$/);

      await stopRedisServer(redis, signal);
      await Promise.all([stderrLines(one, UNAVAILABLE), stderrLines(two, UNAVAILABLE)]);

      // Broker one's users keep talking to each other, every message in order.
      for (let i = 0; i < 50; i++) alice.say(`while away ${i}`);
      for (let i = 0; i < 50; i++) await carol.next(new RegExp(`^<alice> while away ${i}$`));
      assert.deepEqual(
        carol.lines.filter((line) => line.startsWith('<alice> while away')),
        Array.from({ length: 50 }, (_, i) => `<alice> while away ${i}`),
      );
      carol.say('/msg alice still here');
      assert.equal(await alice.next(/^\*carol\*/), '*carol* still here');
      // Newcomers get in, and nicks stay unique on the broker.
      const dave = await user(one, 'dave');
      await alice.next(/^\* dave joined #ops$/);
      dave.say('/nick alice');
      assert.equal(await dave.next(/^\* nick alice is taken$/), '* nick alice is taken');
      // quit ends ncat: a FIN, or a reset when a line to carol had not been read yet (the kernel's rule).
      carol.quit();
      await alice.next(/^\* carol left #ops \(connection (closed|reset by peer)\)$/);
      alice.say('/who');
      assert.equal(await alice.next(/^\* #ops:/), '* #ops: alice, dave');
      assert.equal(countLines(one, UNAVAILABLE), 1, one.stderr());
      assert.equal(countLines(two, UNAVAILABLE), 1, two.stderr());

      // Redis comes back on the same port, empty, as after a restart without persistence.
      redis = await startRedisServer(dir.path, { port: redis.port });
      await Promise.all([stderrLines(one, BACK), stderrLines(two, BACK)]);
      bob.say('/who #ops');
      assert.equal(await bob.next(/^\* #ops:/), '* #ops: alice, bob, dave');
      bob.say('/nick dave');
      assert.equal(await bob.next(/^\* nick dave is taken$/), '* nick dave is taken');
      bob.say('/list');
      assert.equal(await bob.next(/^\* rooms:/), '* rooms: #ops (3)');
      alice.say('across again');
      assert.equal(await bob.next(/^<alice> across/), '<alice> across again');
      for (const broker of [one, two]) {
        assert.equal(countLines(broker, UNAVAILABLE), 1, broker.stderr());
        assert.equal(countLines(broker, BACK), 1, broker.stderr());
      }
      for (const each of users) each.quit();
      const results = await Promise.all([one.stop(), two.stop()]);
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      await stopRedisServer(redis);
    });
  }
});

describe('RedisHub while Redis is away', { timeout: 30_000 }, () => {
  const dir = tempDir();
  let redis: RedisServer | undefined;
  before(async () => {
    redis = await startRedisServer(dir.path);
  });
  after(async () => {
    await stopRedisServer(redis, 'SIGKILL');
    dir.remove();
  });

  /** connect opens a hub that records every availability change and every event it delivers. */
  async function connect(prefix: string, timeout = 5000) {
    const changes: RedisAvailability[] = [];
    const delivered: ChatEvent[] = [];
    const waiters: { available: boolean; resolve: () => void }[] = [];
    const hub = await RedisHub.connect(`redis://127.0.0.1:${redis?.port}`, {
      prefix,
      lease: 300,
      timeout,
      onAvailability: (change) => {
        changes.push(change);
        for (const w of waiters.filter((w) => w.available === change.available)) w.resolve();
      },
    });
    await hub.subscribe((event) => delivered.push(event));
    const becomes = (available: boolean): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          if (hub.available === available) resolve();
          else waiters.push({ available, resolve });
        }),
        5000,
        `available=${available}`,
      );
    return { hub, changes, delivered, becomes };
  }

  test('nothing is queued for Redis while it is down: events reach local users and are not replayed', async () => {
    const { hub, changes, delivered, becomes } = await connect('queue:');
    try {
      assert.equal(await hub.claimNick('erin'), true);
      await hub.enterRoom('#q', 'erin');
      await stopRedisServer(redis, 'SIGKILL');
      await becomes(false);
      const count = 20_000;
      for (let i = 0; i < count; i++)
        await hub.publish({ kind: 'say', room: '#q', from: 'erin', text: `m${i}` });
      assert.equal(delivered.filter((e) => e.kind === 'say').length, count);
      assert.equal(await hub.claimNick('frank'), true);
      assert.equal(await hub.claimNick('ERIN'), false);
      assert.deepEqual(await hub.members('#q'), ['erin']);

      redis = await startRedisServer(dir.path, { port: redis?.port });
      await becomes(true);
      assert.deepEqual(changes, [
        { available: false, reason: 'connection lost' },
        { available: true, nicks: 2, rejoined: 1 },
      ]);
      const raw = new Redis({ port: redis.port, host: '127.0.0.1' });
      try {
        const stats = await raw.info('commandstats');
        const published = Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
        assert.ok(published <= 1, `${published} PUBLISH calls reached the restarted Redis`);
        assert.equal(await raw.hget('{queue:}nicks', 'frank'), hub.id);
      } finally {
        raw.disconnect();
      }
    } finally {
      await hub.close();
    }
  });

  test(`a Redis that stops answering holds at most ${MAX_PENDING_PUBLISHES} events, then counts as unavailable`, async () => {
    if (redis?.child.exitCode !== null || redis.child.signalCode !== null) {
      redis = await startRedisServer(dir.path); // the test before failed while Redis was down
    }
    const { hub, changes, delivered, becomes } = await connect('stalled:', 2000);
    const server = redis;
    try {
      server.child.kill('SIGSTOP');
      for (let i = 0; i < MAX_PENDING_PUBLISHES + 500; i++) {
        await hub.publish({ kind: 'say', room: '#s', from: 'gus', text: `m${i}` });
      }
      assert.equal(hub.available, false);
      assert.equal(delivered.length, MAX_PENDING_PUBLISHES + 500);
      assert.deepEqual(changes, [
        { available: false, reason: `not answering (${MAX_PENDING_PUBLISHES} events unacknowledged)` },
      ]);
      server.child.kill('SIGCONT');
      await becomes(true);
      assert.equal(changes.length, 2);
    } finally {
      server.child.kill('SIGCONT');
      await hub.close();
    }
  });
});
