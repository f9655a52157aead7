/**
 * ping and traceroute across a real routed network: host A, router R, host B in network
 * namespaces this file creates (and removes, even when a test fails). sockkit runs inside A with
 * `ip netns exec`, and is compared with iputils ping and traceroute run the same way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeTopology, runIn, sockkitIn, type Topology, whyNoNamespaces } from '../raw/netns.js';

const skip = whyNoNamespaces() ?? whyNoTool('ping', '-V') ?? whyNoTool('traceroute', '--version');
let topology: Topology | undefined;

before(() => {
  if (!skip) topology = makeTopology();
});
after(() => topology?.remove());

function whyNoTool(tool: string, flag: string): string | undefined {
  try {
    execFileSync(tool, [flag], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `needs ${tool} (apt-get install iputils-ping traceroute)`;
  }
}

function hostA(): string {
  assert.ok(topology);
  return topology.a;
}

/** hopsOf reads the address of each hop from traceroute's output, `*` for silence. */
function hopsOf(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /^\s*\d+\s/.test(line))
    .map((line) => line.trim().split(/\s+/)[1] ?? '');
}

/** lossOf reads "N% packet loss" from ping's summary. */
function lossOf(output: string): string | undefined {
  return /(\d+(?:\.\d+)?)% packet loss/.exec(output)?.[1];
}

for (const [family, router, target] of [
  ['4', '10.77.1.1', '10.77.2.2'],
  ['6', 'fd77:1::1', 'fd77:2::2'],
] as const) {
  test(`traceroute from A names the router, then B, over IPv${family}`, { skip }, async () => {
    const result = await sockkitIn(hostA(), [
      'traceroute',
      target,
      `-${family}`,
      '--queries',
      '2',
      '--timeout',
      '2s',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout.toString();
    assert.match(
      text,
      new RegExp(
        `^traceroute to ${target} \\(${target}\\), 30 hops max, ${family === '4' ? 60 : 80} byte packets$`,
        'm',
      ),
    );
    assert.deepEqual(hopsOf(text), [router, target]);
    assert.match(text, new RegExp(`^ 1  ${router}  \\d+\\.\\d{3} ms  \\d+\\.\\d{3} ms$`, 'm'));
  });

  test(`traceroute finds the same hops as iputils traceroute -I over IPv${family}`, { skip }, async () => {
    const ours = await sockkitIn(hostA(), ['traceroute', target, '-q', '1', '-w', '2s', '--json']);
    const theirs = await runIn(hostA(), 'traceroute', [
      `-${family}`,
      '-I',
      '-n',
      '-q',
      '1',
      '-w',
      '2',
      target,
    ]);
    assert.equal(theirs.code, 0, theirs.stderr);
    const ourHops = ours.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { probes: Array<{ address?: string }> }).probes[0]?.address ?? '*');
    assert.deepEqual(ourHops, hopsOf(theirs.stdout.toString()));
    assert.deepEqual(ourHops, [router, target]);
  });

  test(`ping with TTL 1 reports time exceeded from the router, as iputils does, over IPv${family}`, {
    skip,
  }, async () => {
    const ours = await sockkitIn(hostA(), ['ping', target, '--ttl', '1', '--count', '1', '--timeout', '2s']);
    const theirs = await runIn(hostA(), 'ping', [`-${family}`, '-t', '1', '-c', '1', '-W', '2', target]);
    const words = family === '4' ? 'Time to live exceeded' : 'Time exceeded: Hop limit';
    const line = `From ${router} icmp_seq=1 ${words}`;
    assert.equal(ours.code, 1);
    assert.ok(ours.stdout.toString().split('\n').includes(line), ours.stdout.toString());
    assert.ok(theirs.stdout.toString().split('\n').includes(line), theirs.stdout.toString());
    assert.match(
      ours.stdout.toString(),
      /^1 packets transmitted, 0 received, \+1 errors, 100% packet loss, time \d+ms$/m,
    );
    assert.equal(lossOf(ours.stdout.toString()), lossOf(theirs.stdout.toString()));
    assert.match(ours.stderr, /^sockkit: ping .*: no reply \(1 request, 100% packet loss\)\n$/);
  });

  test(`ping crosses the router and every request is answered, as with iputils, over IPv${family}`, {
    skip,
  }, async () => {
    const ours = await sockkitIn(hostA(), ['ping', target, '-c', '3', '-i', '100ms']);
    const theirs = await runIn(hostA(), 'ping', [`-${family}`, '-c', '3', '-i', '0.1', '-W', '2', target]);
    assert.equal(ours.code, 0, ours.stderr);
    const ttl = family === '4' ? ' ttl=63' : '';
    const replies = ours.stdout
      .toString()
      .match(new RegExp(`^64 bytes from ${target}: icmp_seq=\\d${ttl} time=[\\d.]+ ms$`, 'gm'));
    assert.equal(replies?.length, 3, ours.stdout.toString());
    assert.equal(lossOf(ours.stdout.toString()), '0');
    assert.equal(lossOf(theirs.stdout.toString()), '0');
  });

  test(`ping to an absent address reports 100% loss in bounded time, as iputils does, over IPv${family}`, {
    skip,
  }, async () => {
    const absent = family === '4' ? '10.77.2.99' : 'fd77:2::99';
    const ours = await sockkitIn(hostA(), ['ping', absent, '-c', '2', '-i', '200ms', '-W', '500ms']);
    const theirs = await runIn(hostA(), 'ping', [`-${family}`, '-c', '2', '-i', '0.2', '-W', '1', absent]);
    assert.equal(ours.code, 1);
    assert.equal(lossOf(ours.stdout.toString()), '100');
    assert.equal(lossOf(theirs.stdout.toString()), '100');
    assert.match(ours.stdout.toString(), /^2 packets transmitted, 0 received, .*100% packet loss/m);
    // Bounded by -W, not by the 2 s default: ping's own clock (first request to the end, start-up
    // excluded) reads about 0.2 s + 0.5 s; with the default it could not be under 2.2 s.
    const elapsed = Number(/packet loss, time (\d+)ms$/m.exec(ours.stdout.toString())?.[1]);
    assert.ok(elapsed < 2000, `ping's own time was ${elapsed} ms`);
  });
}

for (const [family, router, nowhere, words] of [
  ['4', '10.77.1.1', '10.99.0.1', 'Destination Net Unreachable'],
  ['6', 'fd77:1::1', 'fd99::1', 'Destination unreachable: No route'],
] as const) {
  // Linux rate-limits "no route" errors per sender in a token bucket (net.ipv4.route.error_cost
  // and error_burst, host-wide) that it shares with the ICMP error limit; lifting that limit
  // (icmp_ratelimit=0) empties the bucket. So each tool gets a fresh network with the default
  // limits, where two such errors always pass: one for traceroute, one for ping.
  test(`an address the router has no route to is reported unreachable, as iputils does, over IPv${family}`, {
    skip,
  }, async (t) => {
    const ourNet = makeTopology({ defaultRateLimits: true });
    t.after(() => ourNet.remove());
    const theirNet = makeTopology({ defaultRateLimits: true });
    t.after(() => theirNet.remove());
    const ourTrace = await sockkitIn(ourNet.a, ['traceroute', nowhere, '-q', '1', '-w', '2s']);
    const theirTrace = await runIn(theirNet.a, 'traceroute', [
      `-${family}`,
      '-I',
      '-n',
      '-q',
      '1',
      '-N',
      '1',
      '-w',
      '2',
      nowhere,
    ]);
    assert.equal(ourTrace.code, 1);
    assert.match(ourTrace.stdout.toString(), new RegExp(`^ 1  ${router}  \\d+\\.\\d{3} ms !N\n$`, 'm'));
    assert.match(theirTrace.stdout.toString(), new RegExp(`^ 1  ${router}  \\d+\\.\\d{3} ms !N$`, 'm'));
    assert.match(
      ourTrace.stderr,
      new RegExp(`^sockkit: traceroute ${nowhere}: ${nowhere} not reached within 30 hops\n$`),
    );

    const ours = await sockkitIn(ourNet.a, ['ping', nowhere, '-c', '1', '-W', '2s']);
    const theirs = await runIn(theirNet.a, 'ping', [`-${family}`, '-c', '1', '-W', '2', nowhere]);
    const line = `From ${router} icmp_seq=1 ${words}`;
    assert.equal(ours.code, 1);
    assert.ok(ours.stdout.toString().split('\n').includes(line), ours.stdout.toString());
    assert.ok(theirs.stdout.toString().split('\n').includes(line), theirs.stdout.toString());
    assert.equal(lossOf(ours.stdout.toString()), lossOf(theirs.stdout.toString()));
  });
}

test('two pings at once through the router each count only their own replies', { skip }, async () => {
  const [first, second] = await Promise.all([
    sockkitIn(hostA(), ['ping', '10.77.2.2', '-c', '4', '-i', '50ms', '--json']),
    sockkitIn(hostA(), ['ping', '10.77.2.2', '-c', '3', '-i', '70ms', '--json']),
  ]);
  for (const [result, count] of [
    [first, 4],
    [second, 3],
  ] as const) {
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .toString()
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { type: string; sequence?: number; received?: number; duplicates?: number },
      );
    const replies = events.filter((event) => event.type === 'reply').map((event) => event.sequence);
    assert.deepEqual(
      replies,
      Array.from({ length: count }, (_, i) => i + 1),
    );
    assert.deepEqual([events.at(-1)?.received, events.at(-1)?.duplicates], [count, 0]);
  }
});
