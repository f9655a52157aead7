/**
 * The reply budget keeps UDP services from being an amplifier aimed at a forged sender: on an
 * address reachable from other hosts each source gets at most N replies a second by default;
 * loopback stays unlimited unless the budget is asked for. Real sockets on loopback, and the CLI.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { describe, test } from 'node:test';
import type { LimitEvent } from '../../src/security/limit-event.js';
import {
  DEFAULT_REPLY_BUDGET,
  isLoopbackHost,
  ReplyBudget,
  sourceOf,
} from '../../src/security/reply-budget.js';
import { hostPort, type Running, runCli, startCli } from '../helpers.js';

describe('ReplyBudget', () => {
  test('answers at most perSecond replies to one source in a second; other sources keep theirs', () => {
    const events: LimitEvent[] = [];
    const budget = new ReplyBudget({ perSecond: 3 }, (e) => events.push(e));
    const answer = (address: string, port = 5000): boolean => {
      const allowed = budget.allows({ address, port });
      if (allowed) budget.spend({ address, port }, 1);
      return allowed;
    };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => answer('192.0.2.1')),
      [true, true, true, false, false],
    );
    // Every port of the source shares its budget; an IPv4-mapped sender is the same source.
    assert.equal(answer('192.0.2.1', 6000), false);
    assert.equal(answer('::ffff:192.0.2.1'), false);
    assert.equal(answer('192.0.2.2'), true);
    assert.equal(events.length, 4);
    assert.equal(events[0]?.limit, 'reply-budget');
    assert.equal(events[0]?.peer, '192.0.2.1:5000');
    assert.equal(events[0]?.detail, 'dropped unanswered: 3 replies this second to 192.0.2.1');
    assert.deepEqual(events[0]?.option, { name: 'replyBudget', value: 3 });
  });

  test('charges the replies actually sent: a datagram answered twice costs two, one not answered costs none', () => {
    const budget = new ReplyBudget({ perSecond: 4 });
    const peer = { address: '198.51.100.7', port: 9 };
    budget.spend(peer, 0);
    budget.spend(peer, 2);
    assert.equal(budget.allows(peer), true);
    budget.spend(peer, 2);
    assert.equal(budget.allows(peer), false);
  });

  test('an IPv6 source is its /64: addresses spread over one network share one budget', () => {
    assert.equal(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(sourceOf('fe80::1%eth0'), 'fe80::/64');
    assert.equal(sourceOf('::ffff:10.1.2.3'), '10.1.2.3');
    const budget = new ReplyBudget({ perSecond: 2 });
    for (const host of ['2001:db8:1:2::1', '2001:db8:1:2::2']) {
      assert.equal(budget.allows({ address: host, port: 1 }), true);
      budget.spend({ address: host, port: 1 }, 1);
    }
    assert.equal(budget.allows({ address: '2001:db8:1:2::3', port: 1 }), false);
    assert.equal(budget.allows({ address: '2001:db8:1:3::1', port: 1 }), true);
  });

  test('covers sockets not bound to loopback by default (the wildcards included), and loopback only when asked', () => {
    const byDefault = new ReplyBudget();
    assert.equal(byDefault.perSecond, DEFAULT_REPLY_BUDGET);
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'fd00::1', '::ffff:192.0.2.1'])
      assert.equal(byDefault.covers(host), true, host);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])
      assert.equal(byDefault.covers(host), false, host);
    assert.equal(new ReplyBudget({ onLoopback: true }).covers('127.0.0.1'), true);
    assert.equal(isLoopbackHost('::'), false);
  });

  test('a budget that is not a positive whole number is a RangeError', () => {
    assert.throws(() => new ReplyBudget({ perSecond: 0 }), RangeError);
    assert.throws(() => new ReplyBudget({ perSecond: 1.5 }), RangeError);
  });
});

/** Flood is what one source got back from a flood of empty datagrams. */
interface Flood {
  replies: number;
  /** How many one-second windows the flood may have spanned. */
  windows: number;
}

async function bound(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket;
}

/**
 * flood sends `count` empty datagrams from one source to the server, then a probe from another
 * source (127.0.0.3) until it is answered: the server handles datagrams in order, so by then it
 * has handled the whole flood.
 */
async function flood(url: string, count: number): Promise<Flood> {
  const { host, port } = hostPort(url.replace('0.0.0.0', '127.0.0.1'));
  const flooder = await bound('127.0.0.1');
  let replies = 0;
  flooder.on('message', () => {
    replies += 1;
  });
  const started = Date.now();
  for (let i = 0; i < count; i++)
    await new Promise<void>((resolve) => flooder.send(Buffer.alloc(0), port, host, () => resolve()));
  const probe = await bound('127.0.0.3');
  const answered = new Promise<void>((resolve) => probe.once('message', () => resolve()));
  // Bounded: at most 20 probes, one each time 100 ms pass without an answer.
  for (let attempt = 0; attempt < 20; attempt++) {
    probe.send(Buffer.alloc(0), port, host);
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 100));
    if ((await Promise.race([answered, timer])) !== 'late') break;
  }
  const windows = Math.ceil((Date.now() - started + 1) / 1000) + 1;
  flooder.close();
  probe.close();
  return { replies, windows };
}

/** served reads `served N datagrams in (...), M out` from a server's shutdown summary. */
function served(stderr: string): { in: number; out: number } {
  const match = /(\d+) datagrams in \([^)]*\), (\d+) out/.exec(stderr);
  assert.ok(match, stderr);
  return { in: Number(match[1]), out: Number(match[2]) };
}

async function stopped(server: Running): Promise<string> {
  return (await server.stop()).stderr;
}

describe('the reply budget in `serve` (CLI)', () => {
  test('on loopback there is no budget by default: every datagram is answered, and no warning', {
    timeout: 8000,
  }, async () => {
    const server = await startCli(['serve', 'time', 'udp://127.0.0.1:0']);
    const result = await flood(server.urls[0] as string, 200);
    const stderr = await stopped(server);
    const { in: received, out } = served(stderr);
    assert.ok(received > 3 * DEFAULT_REPLY_BUDGET, `${received} datagrams reached the server`);
    assert.equal(out, received, 'every datagram was answered');
    assert.ok(result.replies >= 1);
    assert.doesNotMatch(stderr, /warning|reply-budget|unanswered/);
  });

  test('--reply-budget N on loopback: a flood of empty datagrams from one source gets at most N a second', {
    timeout: 8000,
  }, async () => {
    const server = await startCli(['serve', 'chargen', 'udp://127.0.0.1:0', '--reply-budget', '5']);
    const result = await flood(server.urls[0] as string, 300);
    const stderr = await stopped(server);
    assert.ok(result.replies >= 1, 'the source was answered within its budget');
    assert.ok(
      result.replies <= 5 * result.windows,
      `${result.replies} replies in at most ${result.windows} windows of 5`,
    );
    const { in: received, out } = served(stderr);
    // The flooder's replies plus the probe's (its own budget): never more than the budgets allow.
    assert.ok(out <= 5 * result.windows + 5, `${out} replies sent for ${received} datagrams`);
    assert.match(
      stderr,
      /limit reply-budget 127\.0\.0\.1:\d+: dropped unanswered: 5 replies this second to 127\.0\.0\.1 \(--reply-budget 5\)/,
    );
    assert.match(stderr, /\d+ unanswered over the reply budget/);
  });

  test('on 0.0.0.0 (reachable from other hosts) the budget is on by default, with a one-line warning', {
    timeout: 8000,
  }, async () => {
    const server = await startCli(['serve', 'chargen', 'udp://0.0.0.0:0']);
    const result = await flood(server.urls[0] as string, 300);
    const stderr = await stopped(server);
    assert.ok(result.replies >= 1);
    assert.ok(
      result.replies <= DEFAULT_REPLY_BUDGET * result.windows,
      `${result.replies} replies in at most ${result.windows} windows of ${DEFAULT_REPLY_BUDGET}`,
    );
    const warnings = stderr.split('\n').filter((line) => /warning/.test(line));
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^sockkit: warning: udp:\/\/0\.0\.0\.0:\d+ is reachable from other hosts, .*at most 10 replies per second per source \(--reply-budget N or off\)$/,
    );
  });

  test('--reply-budget off lifts it on 0.0.0.0, and says so', { timeout: 8000 }, async () => {
    const server = await startCli(['serve', 'time', 'udp://0.0.0.0:0', '--reply-budget', 'off']);
    await flood(server.urls[0] as string, 100);
    const stderr = await stopped(server);
    const { in: received, out } = served(stderr);
    assert.equal(out, received);
    assert.ok(received > DEFAULT_REPLY_BUDGET * 3);
    assert.match(
      stderr,
      /warning: udp:\/\/0\.0\.0\.0:\d+ is reachable from other hosts and --reply-budget is off/,
    );
  });

  test('a malformed --reply-budget is a usage error naming the flag', { timeout: 8000 }, async () => {
    const values = ['0', '2000000'];
    const results = await Promise.all(
      values.map((value) => runCli(['serve', 'echo', 'udp://127.0.0.1:0', '--reply-budget', value])),
    );
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 2, values[i]);
      assert.match(result.stderr, /^sockkit: .*--reply-budget/m);
    }
  });
});
