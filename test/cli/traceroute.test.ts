import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

test('traceroute 127.0.0.1 reaches it at hop 1 and exits 0', { skip: needsRoot }, async () => {
  const result = await runCli(['traceroute', '127.0.0.1']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.toString().trimEnd().split('\n');
  assert.equal(lines[0], 'traceroute to 127.0.0.1 (127.0.0.1), 30 hops max, 60 byte packets');
  assert.match(lines[1] ?? '', /^ 1 {2}127\.0\.0\.1 {2}\d+\.\d{3} ms {2}\d+\.\d{3} ms {2}\d+\.\d{3} ms$/);
  assert.equal(lines.length, 2);
});

test('traceroute -6 ::1 --queries 1 --json prints one hop object', { skip: needsRoot }, async () => {
  const result = await runCli(['traceroute', '-6', '::1', '--queries', '1', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const hop = JSON.parse(result.stdout.toString()) as {
    ttl: number;
    reached: boolean;
    probes: Array<{ kind: string; address: string }>;
  };
  assert.deepEqual(
    [hop.ttl, hop.reached, hop.probes[0]?.kind, hop.probes[0]?.address],
    [1, true, 'reply', '::1'],
  );
});

test('traceroute --hexdump shows each probe with its TTL', { skip: needsRoot }, async () => {
  const result = await runCli(['traceroute', '127.0.0.1', '-q', '1', '--hexdump']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.match(
    text,
    /^> sent 40 bytes to 127\.0\.0\.1 with TTL 1: ICMP echo request \(the kernel adds the IPv4 header\)$/m,
  );
  assert.match(text, /^< received 60 bytes from 127\.0\.0\.1: ICMP echo reply$/m);
  assert.match(text, /^ {2}0004 {2}[0-9a-f]{2} [0-9a-f]{2} {20}identifier \d+ \(0x[0-9a-f]{4}\)$/m);
});

test('traceroute usage errors exit 2 with one line', async () => {
  for (const [args, message] of [
    [['traceroute', '127.0.0.1', '--max-hops', '0'], /^sockkit: --max-hops: must be from 1 to 255 \(got 0\)/],
    [['traceroute', '127.0.0.1', '--queries', '11'], /^sockkit: --queries: must be from 1 to 10 \(got 11\)/],
    [['traceroute', '127.0.0.1', '--timeout', 'x'], /^sockkit: --timeout: invalid duration "x"/],
    [['traceroute', '-4', '-6', '::1'], /^sockkit: traceroute: -4 and -6 exclude each other/],
  ] as const) {
    const result = await runCli(args);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
});
