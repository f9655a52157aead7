/**
 * sockkit mtr across a routed network (host A, router R, host B in namespaces this file makes
 * and removes), compared with Debian's mtr-tiny (`mtr --report`) run from the same host: both
 * name the same hops, and loss injected on the R-B link (nftables `numgen random` in R, as this
 * kernel has no netem) shows on hop 2 and not on hop 1, within a binomial bound.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeTopology, runIn, sockkitIn, type Topology, whyNoNamespaces } from '../raw/netns.js';

const skip = whyNoNamespaces() ?? whyNoMtr();
let topology: Topology | undefined;

function whyNoMtr(): string | undefined {
  try {
    execFileSync('mtr', ['--version'], { stdio: 'ignore' });
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs mtr and nft (apt-get install mtr-tiny nftables)';
  }
}

before(() => {
  if (!skip) topology = makeTopology();
});
after(() => topology?.remove());

function net(): Topology {
  assert.ok(topology);
  return topology;
}

/** mtrHops reads each hop's address and loss from mtr --report's table. */
function mtrHops(output: string): Array<[string, number]> {
  return [...output.matchAll(/^\s*\d+\.\|-- (\S+)\s+([\d.]+)%/gm)].map((m) => [m[1] as string, Number(m[2])]);
}

interface JsonHop {
  address: string | null;
  loss: number;
  sent: number;
  received: number;
  best?: number;
  worst?: number;
  jitter?: number;
}

for (const [family, router, target] of [
  ['4', '10.77.1.1', '10.77.2.2'],
  ['6', 'fd77:1::1', 'fd77:2::2'],
] as const) {
  for (const [mode, ours, theirs] of [
    ['ICMP', [], []],
    ['TCP', ['--tcp', '-p', '8081'], ['--tcp', '-P', '8081']],
    ['UDP', ['--udp', '-p', '33434'], ['--udp', '-P', '33434']],
  ] as const) {
    test(`mtr --report ${mode} names the hops as mtr-tiny does, over IPv${family}`, {
      skip,
      timeout: 9000,
    }, async () => {
      const [mine, tiny] = await Promise.all([
        sockkitIn(net().a, ['mtr', target, '--report', '-c', '3', '-i', '50ms', '-w', '1s', ...ours]),
        runIn(net().a, 'mtr', [
          `-${family}`,
          '--report',
          '-n',
          '-c',
          '3',
          '-i',
          '0.05',
          '-G',
          '1',
          ...theirs,
          target,
        ]),
      ]);
      assert.equal(mine.code, 0, mine.stderr);
      assert.equal(tiny.code, 0, tiny.stderr);
      const expected: Array<[string, number]> = [
        [router, 0],
        [target, 0],
      ];
      assert.deepEqual(mtrHops(mine.stdout.toString()), expected, mine.stdout.toString());
      assert.deepEqual(mtrHops(tiny.stdout.toString()), expected, tiny.stdout.toString());
      assert.match(
        mine.stdout.toString(),
        /^HOST: \S+\s+Loss% {3}Snt {3}Last {3}Avg {2}Best {2}Wrst StDev {2}Javg$/m,
      );
    });
  }
}

test('loss injected on the R-B link shows on hop 2 and not hop 1, in sockkit mtr and mtr-tiny alike', {
  skip,
  timeout: 9500,
}, async (t) => {
  const lossy = makeTopology();
  t.after(() => lossy.remove());
  // Drop half of what R forwards to B (probes only: answers to A are not matched). Probes that
  // expire at R are never forwarded, so hop 1 sees no loss.
  const nft = (...args: string[]): void => {
    execFileSync('ip', ['netns', 'exec', lossy.r, 'nft', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  nft('add', 'table', 'inet', 'loss');
  nft('add', 'chain', 'inet', 'loss', 'forward', '{ type filter hook forward priority 0; policy accept; }');
  nft(
    'add',
    'rule',
    'inet',
    'loss',
    'forward',
    'ip',
    'daddr',
    '10.77.2.2',
    'numgen',
    'random',
    'mod',
    '100',
    '<',
    '50',
    'drop',
  );
  const rounds = 60;
  const [mine, tiny] = await Promise.all([
    sockkitIn(lossy.a, ['mtr', '10.77.2.2', '--json', '-c', String(rounds), '-i', '20ms', '-w', '1s']),
    runIn(lossy.a, 'mtr', [
      '-4',
      '--report',
      '-n',
      '-c',
      String(rounds),
      '-i',
      '0.02',
      '-G',
      '1',
      '10.77.2.2',
    ]),
  ]);
  assert.equal(mine.code, 0, mine.stderr);
  const report = JSON.parse(mine.stdout.toString()) as { rounds: number; hops: JsonHop[] };
  assert.equal(report.rounds, rounds);
  assert.deepEqual(
    report.hops.map((hop) => [hop.address, hop.sent]),
    [
      ['10.77.1.1', rounds],
      ['10.77.2.2', rounds],
    ],
  );
  // 60 probes lost with probability 0.5: the loss lies within 4 standard deviations (6.5 points
  // each) of 50% but for a chance of about 1 in 15,000; hop 1 loses none but to a stall.
  const [hop1, hop2] = report.hops as [JsonHop, JsonHop];
  assert.ok(hop1.loss <= 5, `hop 1 loss ${hop1.loss}%`);
  assert.ok(hop2.loss >= 24 && hop2.loss <= 76, `hop 2 loss ${hop2.loss}%`);
  assert.ok((hop2.best ?? 0) <= (hop2.worst ?? 0) && (hop2.jitter ?? -1) >= 0, JSON.stringify(hop2));
  const theirs = mtrHops(tiny.stdout.toString());
  assert.deepEqual(
    theirs.map(([address]) => address),
    ['10.77.1.1', '10.77.2.2'],
    tiny.stdout.toString(),
  );
  assert.ok((theirs[0]?.[1] ?? 100) <= 5, tiny.stdout.toString());
  assert.ok((theirs[1]?.[1] ?? 0) >= 24 && (theirs[1]?.[1] ?? 100) <= 76, tiny.stdout.toString());
});

test('mtr to an address the router has no route to stops at the router that says so, and exits 1', {
  skip,
  timeout: 9000,
}, async () => {
  const result = await sockkitIn(net().a, [
    'mtr',
    '10.99.0.1',
    '--json',
    '-c',
    '3',
    '-i',
    '50ms',
    '-w',
    '1s',
  ]);
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout.toString()) as { reached: boolean; hops: JsonHop[] };
  assert.equal(report.reached, false);
  // Hop 1 is R (time exceeded); from TTL 2 on, R answers "network unreachable" (when its budget
  // for those errors allows, see ping-netns.test.ts): the path ends there, not at 30 hops of R.
  const addresses = report.hops.map((hop) => hop.address);
  assert.ok(addresses.length >= 1 && addresses.length <= 2, JSON.stringify(addresses));
  assert.ok(
    addresses.every((address) => address === '10.77.1.1'),
    JSON.stringify(addresses),
  );
  assert.match(result.stderr, /^sockkit: mtr 10\.99\.0\.1: 10\.99\.0\.1 did not answer within 30 hops\n$/);
});
