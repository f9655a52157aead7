import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternPayload } from '../../src/raw/echo-run.js';
import { type PingEvent, ping, pingOnce } from '../../src/raw/ping.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

async function collect(events: AsyncIterable<PingEvent>): Promise<PingEvent[]> {
  const all: PingEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

test('echo to 127.0.0.1 resolves with a reply carrying the loopback TTL', { skip: needsRoot }, async () => {
  const outcome = await pingOnce('127.0.0.1', { timeout: 2000 });
  assert.equal(outcome.kind, 'reply');
  assert.equal(outcome.address, '127.0.0.1');
  assert.equal(outcome.kind === 'reply' && outcome.ttl, 64);
  assert.equal(outcome.kind === 'reply' && outcome.bytes, 64);
});

test('echo to ::1 resolves with a reply, without a TTL', { skip: needsRoot }, async () => {
  const outcome = await pingOnce('::1', { size: 100 });
  assert.equal(outcome.kind, 'reply');
  assert.equal(outcome.kind === 'reply' && outcome.source, '::1');
  assert.equal(outcome.kind === 'reply' && outcome.ttl, undefined);
  assert.equal(outcome.kind === 'reply' && outcome.bytes, 108);
});

for (const address of ['127.0.0.1', '::1']) {
  test(`ping ${address} yields a sent and a reply event per sequence, then ends`, {
    skip: needsRoot,
  }, async () => {
    const session = await ping(address, { count: 3, interval: 20 });
    assert.equal(session.address, address);
    const events = await collect(session);
    assert.deepEqual(
      events.filter((event) => event.type === 'sent').map((event) => event.sequence),
      [1, 2, 3],
    );
    const replies = events.filter((event) => event.type === 'reply');
    assert.deepEqual(
      replies.map((event) => event.sequence),
      [1, 2, 3],
    );
    assert.ok(
      replies.every(
        (event) => event.type === 'reply' && !event.duplicate && !event.corrupted && event.rtt >= 0,
      ),
    );
  });
}

test('two pings at once each see only their own replies', { skip: needsRoot }, async () => {
  const [first, second] = await Promise.all([
    ping('127.0.0.1', { count: 5, interval: 10 }),
    ping('127.0.0.1', { count: 5, interval: 10, size: 20 }),
  ]);
  assert.notEqual(first.identifier, second.identifier);
  const [a, b] = await Promise.all([collect(first), collect(second)]);
  for (const events of [a, b]) {
    const replies = events.filter((event) => event.type === 'reply');
    assert.deepEqual(
      replies.map((event) => event.sequence),
      [1, 2, 3, 4, 5],
    );
  }
  assert.ok(b.every((event) => event.type !== 'reply' || event.bytes === 28));
});

test('a ping without a count stops at once when its signal aborts', { skip: needsRoot }, async () => {
  const controller = new AbortController();
  const session = await ping('127.0.0.1', { interval: 10_000, signal: controller.signal });
  const events: PingEvent[] = [];
  for await (const event of session) {
    events.push(event);
    if (event.type === 'reply') controller.abort();
  }
  assert.deepEqual(
    events.map((event) => event.type),
    ['sent', 'reply'],
  );
});

test('breaking out of the loop closes the ping', { skip: needsRoot }, async () => {
  const session = await ping('::1', { interval: 10 });
  let replies = 0;
  for await (const event of session) {
    if (event.type === 'reply') replies += 1;
    if (replies === 2) break;
  }
  assert.equal(replies, 2);
});

test('options out of range are refused before any packet is sent', async () => {
  await assert.rejects(ping('127.0.0.1', { ttl: 0 }), /ttl must be from 1 to 255, got 0/);
  await assert.rejects(ping('127.0.0.1', { size: 70_000 }), RangeError);
  await assert.rejects(ping('127.0.0.1', { count: 0 }), /count must be from 1/);
  await assert.rejects(pingOnce('127.0.0.1', { timeout: 0 }), /timeout must be from 1/);
});

test('an IPv4 literal with -6 is refused, naming the address', async () => {
  await assert.rejects(ping('127.0.0.1', { family: 6 }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /^ping 127\.0\.0\.1: /);
    return true;
  });
});

test('the payload is a counting pattern, so a changed byte shows', () => {
  assert.deepEqual([...patternPayload(4)], [0, 1, 2, 3]);
  assert.equal(patternPayload(300)[256], 0);
});
