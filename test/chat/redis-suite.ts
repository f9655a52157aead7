/**
 * The chat's Redis directory tests, run against any Redis a test file starts: one server
 * (redis.test.ts) or a Redis Cluster (redis-cluster.test.ts). The same tests must pass on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster, type Redis } from 'ioredis';
import type { ChatEvent } from '../../src/chat/hub.js';
import { RedisHub, type RedisHubOptions } from '../../src/chat/redis-hub.js';
import { hostPort, type Running, startCli } from '../helpers.js';
import { LineUser } from './line-user.js';
import { keysOf } from './redis-server.js';

/** RedisBackend is a running Redis (server or cluster) the tests may use. */
export interface RedisBackend {
  /** The URL for `--redis` and `RedisHub.connect`. */
  readonly url: string;
  /** `--redis URL`, and `--redis-cluster` for a cluster. */
  readonly flags: readonly string[];
  /** Options every RedisHub.connect of these tests adds (`cluster: true` for a cluster). */
  readonly options: RedisHubOptions;
  /** client opens a plain client (a Cluster client for a cluster) for the tests to look and poke. */
  client(): Redis | Cluster;
}

/** within rejects, naming `what`, if `promise` has not settled after `ms` milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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

/** userOf connects an ncat user to the first URL a broker listens on. */
export function userOf(broker: Running): LineUser {
  return LineUser.ncat('127.0.0.1', String(hostPort(broker.urls[0] as string).port));
}

/** redisDirectoryTests declares the directory's tests; `backend` is called once the file's Redis runs. */
export function redisDirectoryTests(backend: () => RedisBackend): void {
  describe('two chat brokers sharing rooms through Redis', { timeout: 30_000 }, () => {
    let one: Running;
    let two: Running;
    before(async () => {
      one = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', ...backend().flags]);
      two = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', ...backend().flags]);
    });
    after(async () => {
      const results = await Promise.all([one?.stop(), two?.stop()]);
      for (const result of results) assert.equal(result?.code, 0, result?.stderr);
    });

    test('users on different brokers see each other, whisper, and share nicknames and rooms', async () => {
      const alice = userOf(one);
      const bob = userOf(two);
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
        await alice.next(/^\* bob left #ops \(connection (closed|reset by peer)\)$/); // ncat ended: FIN, or RST with a line unread
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
      const started: Running[] = [];
      const users: LineUser[] = [];
      const user = (broker: Running): LineUser => {
        const created = userOf(broker);
        users.push(created);
        return created;
      };
      try {
        const serve = ['chat', 'serve', 'tcp://127.0.0.1:0', ...backend().flags, '--redis-lease', '1s'];
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
      }
    });
  });

  describe('RedisHub leases', { timeout: 30_000 }, () => {
    let raw: Redis | Cluster;
    const connect = (prefix: string, lease: number): Promise<RedisHub> =>
      RedisHub.connect(backend().url, { ...backend().options, prefix, lease });
    before(() => {
      raw = backend().client();
    });
    after(() => raw?.disconnect());

    test('a nick held by a broker whose lease ran out is free, and its members are not listed', async () => {
      const a = await connect('expired:', 60_000);
      const b = await connect('expired:', 60_000);
      try {
        assert.equal(await a.claimNick('Bob'), true);
        await a.enterRoom('#ops', 'Bob');
        assert.equal(await b.claimNick('bob'), false);
        assert.equal(await b.hasNick('BOB'), true);
        assert.deepEqual(await b.members('#ops'), ['Bob']);
        assert.deepEqual(await b.rooms(), [{ room: '#ops', members: 1 }]);

        await raw.del(`{expired:}broker:${a.id}`); // as if a had stopped refreshing its heartbeat
        assert.equal(await b.hasNick('bob'), false);
        assert.deepEqual(await b.members('#ops'), []);
        assert.deepEqual(await b.rooms(), []);
        assert.equal(await b.claimNick('bob'), true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
      assert.deepEqual(await keysOf(raw, '{expired:}*'), [], 'close removes everything a broker held');
    });

    test('a broker whose entries were lost writes them back and announces its members', async () => {
      const a = await connect('lost:', 300);
      const b = await connect('lost:', 300);
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
        await raw.del(...(await keysOf(raw, '{lost:}*')));
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

    test('every key of one directory lives in one hash slot', async () => {
      const a = await connect('slot:', 60_000);
      try {
        assert.equal(await a.claimNick('dave'), true);
        await a.enterRoom('#a', 'dave');
        await a.enterRoom('#b', 'dave');
        const keys = await keysOf(raw, '{slot:}*');
        assert.deepEqual(keys, [
          `{slot:}broker:${a.id}`,
          '{slot:}brokers',
          '{slot:}nicks',
          '{slot:}room:#a',
          '{slot:}room:#b',
          '{slot:}rooms',
        ]);
        if (raw instanceof Cluster) {
          const slots = await Promise.all(keys.map((key) => raw.call('CLUSTER', 'KEYSLOT', key)));
          assert.equal(new Set(slots).size, 1, `slots: ${slots.join(', ')}`);
        }
      } finally {
        await a.close();
      }
    });

    test('refuses to start next to the unleased directory of an older sockkit', async () => {
      await raw.sadd('old:nicks', 'bob');
      await assert.rejects(connect('old:', 15_000), {
        name: 'ProtocolError',
        code: 'ERR_PROTOCOL',
        message: /^connect \S+: redis: old:nicks holds an older sockkit's directory; stop the old brokers/,
      });
    });

    test('refuses to start next to a live broker of an older sockkit (keys without a hash tag)', async () => {
      await raw.set('older:broker:b1', '1', 'PX', 60_000);
      await raw.sadd('older:brokers', 'b1');
      await assert.rejects(connect('older:', 15_000), {
        name: 'ProtocolError',
        code: 'ERR_PROTOCOL',
        message:
          /^connect \S+: redis: older:brokers holds an older sockkit's directory; stop the old brokers/,
      });
    });
  });
}
