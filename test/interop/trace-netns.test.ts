/**
 * TCP and UDP traceroute across a routed network (host A, router R, host B in namespaces this
 * file makes and removes), compared hop by hop with Debian's `traceroute -T` and `-U` run from
 * the same host. B runs a sockkit echo server on port 8080; 8081 is closed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { CLI } from '../helpers.js';
import { makeTopology, runIn, sockkitIn, type Topology, whyNoNamespaces } from '../raw/netns.js';

const skip = whyNoNamespaces() ?? whyNoTraceroute();
let topology: Topology | undefined;
let server: ChildProcess | undefined;

function whyNoTraceroute(): string | undefined {
  try {
    execFileSync('traceroute', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs traceroute (apt-get install traceroute)';
  }
}

before(async () => {
  if (skip) return;
  topology = makeTopology();
  server = spawn('ip', ['netns', 'exec', topology.b, process.execPath, CLI, 'echo', 'tcp://[::]:8080'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // Wait for the line a server prints once it accepts connections (CONVENTIONS.md).
  while (!/^listening on /m.test(err)) await once(server.stderr as NodeJS.ReadableStream, 'data');
});

after(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await once(server, 'close');
  }
  topology?.remove();
});

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

for (const [family, router, target] of [
  ['4', '10.77.1.1', '10.77.2.2'],
  ['6', 'fd77:1::1', 'fd77:2::2'],
] as const) {
  test(`traceroute --tcp to an open port names the hops as traceroute -T does, over IPv${family}`, {
    skip,
    timeout: 9000,
  }, async () => {
    const [ours, theirs] = await Promise.all([
      sockkitIn(hostA(), ['traceroute', '--tcp', '-p', '8080', target, `-${family}`, '-q', '1', '-w', '2s']),
      runIn(hostA(), 'traceroute', [`-${family}`, '-T', '-p', '8080', '-n', '-q', '1', '-w', '2', target]),
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.deepEqual(hopsOf(ours.stdout.toString()), [router, target]);
    assert.deepEqual(hopsOf(theirs.stdout.toString()), [router, target]);
    assert.match(
      ours.stdout.toString(),
      new RegExp(`^port 8080 on ${target} is open \\(it answered SYN-ACK\\)$`, 'm'),
    );
  });

  test(`traceroute --tcp tells a closed port from an open one, over IPv${family}`, {
    skip,
    timeout: 9000,
  }, async () => {
    const [ours, theirs] = await Promise.all([
      sockkitIn(hostA(), ['traceroute', '-T', '-p', '8081', target, '-q', '1', '-w', '2s', '--json']),
      runIn(hostA(), 'traceroute', [`-${family}`, '-T', '-p', '8081', '-n', '-q', '1', '-w', '2', target]),
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    const hops = ours.stdout
      .toString()
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { reached: boolean; probes: Array<{ address?: string; open?: boolean }> },
      );
    assert.deepEqual(
      hops.map((hop) => [hop.probes[0]?.address, hop.reached, hop.probes[0]?.open]),
      [
        [router, false, undefined],
        [target, true, false],
      ],
    );
    assert.deepEqual(hopsOf(theirs.stdout.toString()), [router, target]);
  });

  test(`traceroute --udp names the hops as traceroute -U does, over IPv${family}`, {
    skip,
    timeout: 9000,
  }, async () => {
    const [ours, theirs] = await Promise.all([
      sockkitIn(hostA(), ['traceroute', '--udp', '-p', '33434', target, '-q', '2', '-w', '2s']),
      runIn(hostA(), 'traceroute', [`-${family}`, '-U', '-p', '33434', '-n', '-q', '2', '-w', '2', target]),
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.deepEqual(hopsOf(ours.stdout.toString()), hopsOf(theirs.stdout.toString()));
    assert.deepEqual(hopsOf(ours.stdout.toString()), [router, target]);
    assert.match(
      ours.stdout.toString(),
      new RegExp(`^ 2  ${target}  \\d+\\.\\d{3} ms  \\d+\\.\\d{3} ms$`, 'm'),
    );
  });
}
