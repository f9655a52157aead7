/**
 * Broadcast and multicast between network namespaces this test creates: two namespaces joined by
 * a veth pair on 10.203.0.0/24 and fd03::/64. Traffic goes only to addresses inside them. Needs root (and
 * iproute2); skipped with the reason otherwise. Namespaces are removed even when a test fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type Running, startCli } from '../helpers.js';
import { removeStaleNamespaces } from '../raw/netns.js';
import { hasCommand, startPeer } from './udp-peers.js';

const nsA = `sk3a-${process.pid}`;
const nsB = `sk3b-${process.pid}`;
const vethA = `sk3a${process.pid % 100000}`;
const vethB = `sk3b${process.pid % 100000}`;

function canUseNamespaces(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (!hasCommand('ip')) return 'needs iproute2 (ip)';
  return false;
}
const skip = canUseNamespaces();

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function removeNamespaces(): void {
  for (const ns of [nsA, nsB]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Not there (setup failed before creating it): nothing to remove.
    }
  }
}

/** sockkit runs the CLI inside namespace `ns`, resolving once it prints `listening on` (for servers). */
function sockkit(ns: string, args: readonly string[], server = false): Promise<Running> {
  return startCli(args, { wrapper: ['ip', 'netns', 'exec', ns], listens: server ? 1 : 0 });
}

/** finished waits for a CLI run to exit and returns its exit code. */
async function finished(run: Running): Promise<number | null> {
  return (await run.done).code;
}

describe('broadcast and multicast inside test namespaces', { skip }, () => {
  const peers: { stop(): Promise<unknown> }[] = [];
  before(() => {
    removeStaleNamespaces();
    removeNamespaces();
    try {
      ip('netns', 'add', nsA);
      ip('netns', 'add', nsB);
      ip('link', 'add', vethA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB);
      for (const [ns, veth, address, address6] of [
        [nsA, vethA, '10.203.0.1/24', 'fd03::1/64'],
        [nsB, vethB, '10.203.0.2/24', 'fd03::2/64'],
      ] as const) {
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('-n', ns, 'addr', 'add', address, 'broadcast', '10.203.0.255', 'dev', veth);
        // nodad: usable at once, without waiting for duplicate address detection.
        ip('-n', ns, 'addr', 'add', address6, 'dev', veth, 'nodad');
        ip('-n', ns, 'link', 'set', veth, 'up');
        // Multicast needs a route to leave (and a device to join on); this link is the only one.
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', veth);
      }
    } catch (err) {
      removeNamespaces();
      throw err;
    }
  });
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    removeNamespaces();
  });

  test('send --broadcast reaches an echo server on the other host and prints who replied', async () => {
    const server = await sockkit(nsB, ['echo', 'udp://0.0.0.0:7007'], true);
    peers.push(server);
    const client = await sockkit(nsA, ['send', 'udp://10.203.0.255:7007', 'hello, subnet', '--broadcast']);
    assert.equal(await finished(client), 0, client.stderr());
    assert.equal(client.stdout(), 'hello, subnet');
    assert.match(client.stderr(), /^sockkit: reply from 10\.203\.0\.2:7007 \(13 bytes\)$/m);
  });

  test('send to a broadcast address without --broadcast is refused by the kernel: exit 1, one line', async () => {
    const client = await sockkit(nsA, ['send', 'udp://10.203.0.255:7007', 'x']);
    assert.equal(await finished(client), 1);
    assert.match(client.stderr(), /^sockkit: send udp:\/\/10\.203\.0\.255:7007: permission denied/);
    assert.equal(client.stderr().split('\n').length, 2);
  });

  test('listen --join GROUP prints what is sent to the group from the other host', async () => {
    const listener = await sockkit(
      nsB,
      ['listen', 'udp://0.0.0.0:7008', '--join', '239.1.2.3', '--keep-open'],
      true,
    );
    peers.push(listener);
    const client = await sockkit(nsA, [
      'send',
      'udp://239.1.2.3:7008',
      'to the group',
      '--multicast-ttl',
      '1',
      '--timeout',
      '200ms',
      '--retries',
      '0',
    ]);
    await listener.waitFor(/to the group/, 'stdout');
    // Nobody answered (listen only prints), so send reports no reply after its one attempt.
    assert.equal(await finished(client), 1);
    assert.match(client.stderr(), /no reply after 1 attempt \(200ms each\)/);
  });

  test('serve echo --join answers a multicast request; send prints the member that replied', async () => {
    const server = await sockkit(nsB, ['serve', 'echo', 'udp://0.0.0.0:7009', '--join', '239.1.2.4'], true);
    peers.push(server);
    const client = await sockkit(nsA, ['send', 'udp://239.1.2.4:7009', 'who is there?']);
    assert.equal(await finished(client), 0, client.stderr());
    assert.equal(client.stdout(), 'who is there?');
    assert.match(client.stderr(), /reply from 10\.203\.0\.2:7009/);
  });

  test('--multicast-ttl sets the IP TTL of the datagrams sent to a group', {
    skip: !hasCommand('tcpdump') && 'needs tcpdump',
  }, async () => {
    const capture = await startPeer(
      'ip',
      ['netns', 'exec', nsB, 'tcpdump', '-n', '-l', '-v', '-c', '1', '-i', vethB, 'udp and dst port 7010'],
      /listening on/,
    );
    peers.push(capture);
    const client = await sockkit(nsA, [
      'send',
      'udp://239.1.2.5:7010',
      'ttl?',
      '--multicast-ttl',
      '5',
      '--timeout',
      '100ms',
      '--retries',
      '0',
    ]);
    await finished(client);
    await capture.until('239.1.2.5.7010');
    assert.match(capture.stdout(), /ttl 5,/);
  });

  test('--no-multicast-loopback keeps our own group datagrams from this host; the default delivers them', async () => {
    const listener = await sockkit(
      nsA,
      ['listen', 'udp://0.0.0.0:7011', '--join', '239.1.2.6', '--keep-open'],
      true,
    );
    peers.push(listener);
    const quiet = await sockkit(nsA, [
      'send',
      'udp://239.1.2.6:7011',
      'not-looped',
      '--no-multicast-loopback',
      '--timeout',
      '100ms',
      '--retries',
      '0',
    ]);
    await finished(quiet);
    const looped = await sockkit(nsA, [
      'send',
      'udp://239.1.2.6:7011',
      'looped',
      '--timeout',
      '100ms',
      '--retries',
      '0',
    ]);
    await finished(looped);
    await listener.waitFor(/looped/, 'stdout');
    assert.equal(listener.stdout(), 'looped');
  });

  test('IPv6 multicast: serve echo joins ff15::1234 on an interface given as ::%NAME; send prints the reply', async () => {
    const server = await sockkit(
      nsB,
      ['serve', 'echo', 'udp://[::]:7013', '--join', 'ff15::1234', '--multicast-interface', `::%${vethB}`],
      true,
    );
    peers.push(server);
    const client = await sockkit(nsA, ['send', 'udp://[ff15::1234]:7013', 'hello, IPv6 group']);
    assert.equal(await finished(client), 0, client.stderr());
    assert.equal(client.stdout(), 'hello, IPv6 group');
    assert.match(client.stderr(), /reply from \[fd03::2\]:7013/);
  });
});
