/**
 * sockkit scan across a routed network (host A, router R, host B in namespaces this file makes
 * and removes), where B's firewall drops one port and rejects another with an ICMP error: the
 * reasons a scan gives (refused, timed out, unreachable) come from a real path, not loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeTopology, sockkitIn, type Topology, whyNoNamespaces } from '../raw/netns.js';

const skip = whyNoNamespaces() ?? whyNoNft();
let topology: Topology | undefined;

function whyNoNft(): string | undefined {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs nft (apt-get install nftables)';
  }
}

before(() => {
  if (skip) return;
  topology = makeTopology();
  const nft = (...args: string[]): void => {
    execFileSync('ip', ['netns', 'exec', (topology as Topology).b, 'nft', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  };
  nft('add', 'table', 'inet', 'fw');
  nft('add', 'chain', 'inet', 'fw', 'input', '{ type filter hook input priority 0; policy accept; }');
  nft('add', 'rule', 'inet', 'fw', 'input', 'tcp', 'dport', '9001', 'drop');
  nft('add', 'rule', 'inet', 'fw', 'input', 'udp', 'dport', '9001', 'drop');
  nft(
    'add',
    'rule',
    'inet',
    'fw',
    'input',
    'tcp',
    'dport',
    '9002',
    'reject',
    'with',
    'icmpx',
    'type',
    'admin-prohibited',
  );
});
after(() => topology?.remove());

function hostA(): string {
  assert.ok(topology);
  return topology.a;
}

// An ICMP "administratively prohibited" reads as host unreachable on IPv4 and as permission
// denied on IPv6 (Linux's mappings), and Linux acts on the ICMPv6 one only when it answers the
// first SYN retransmission, about 1 s in: hence the longer timeout there.
for (const [family, target, rejected, timeout] of [
  ['4', '10.77.2.2', 'unreachable', '500ms'],
  ['6', 'fd77:2::2', 'prohibited', '2s'],
] as const) {
  test(`scan --all gives refused, timed out and rejected ports their reasons, over IPv${family}`, {
    skip,
    timeout: 9000,
  }, async () => {
    const result = await sockkitIn(hostA(), [
      'scan',
      target,
      '9001-9003',
      '--all',
      '--json',
      '--timeout',
      timeout,
    ]);
    assert.equal(result.code, 1, result.stderr); // nothing open
    const ports = result.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; port?: number; state?: string; reason?: string })
      .filter((line) => line.type === 'port')
      .map((line) => [line.port, line.state, line.reason]);
    assert.deepEqual(ports, [
      [9001, 'filtered', 'timed out'],
      [9002, 'filtered', rejected],
      [9003, 'closed', 'refused'],
    ]);
  });

  test(`scan -u tells a closed UDP port from a dropped one, over IPv${family}`, {
    skip,
    timeout: 9000,
  }, async () => {
    const result = await sockkitIn(hostA(), [
      'scan',
      target,
      '9001,9003',
      '-u',
      '--all',
      '--timeout',
      '300ms',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stdout.toString().trim().split('\n');
    assert.match(lines[0] ?? '', /^9001\/udp +open\|filtered +no reply$/);
    assert.match(lines[1] ?? '', /^9003\/udp +closed +port unreachable \d+\.\d{3} ms$/);
  });
}
