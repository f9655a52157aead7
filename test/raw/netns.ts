/**
 * A three-namespace network for raw socket tests: host A, router R, host B, joined by veth pairs,
 * IPv4 and IPv6, forwarding on R. Names carry the process id so parallel runs never collide.
 * Traffic stays inside these namespaces (the network rule in DEVELOPERS.md).
 *
 *   A a<id> 10.77.1.2 fd77:1::2 ── R 10.77.1.1 fd77:1::1 | 10.77.2.1 fd77:2::1 ── B 10.77.2.2 fd77:2::2
 */
import { execFileSync } from 'node:child_process';
import { type CliResult, runCli, runProgram } from '../helpers.js';

/** Topology is a running three-namespace network. */
export interface Topology {
  readonly a: string;
  readonly r: string;
  readonly b: string;
  /** remove deletes the namespaces (and so their interfaces). Safe to call twice. */
  remove(): void;
}

let made = 0;

/** TEST_NAMESPACE names the namespaces tests make: `sk`, a tag, the process id, an optional count. */
const TEST_NAMESPACE = /^sk[A-Za-z0-9]+?-?(\d+)(?:x\d+)?$/;

/**
 * removeStaleNamespaces deletes the namespaces of test processes that no longer run. A test
 * process killed by a signal (a CI timeout, Ctrl-C on `npm test`) runs no cleanup, so its
 * namespaces outlive it; the next run clears them before it makes its own. A namespace of a
 * process still running (a parallel test file) is left alone.
 */
export function removeStaleNamespaces(): void {
  let names: string[];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '');
  } catch {
    return;
  }
  for (const name of names) {
    const pid = TEST_NAMESPACE.exec(name)?.[1];
    if (pid === undefined || isRunning(Number(pid))) continue;
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // removed by another test file at the same moment
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** whyNoNamespaces returns why namespace tests cannot run here, or undefined when they can. */
export function whyNoNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root: creates network namespaces and opens raw sockets';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (`ip`)';
  }
  return undefined;
}

/**
 * makeTopology builds the network; on any failure it removes what it made and rethrows. Error
 * rate limits are lifted unless `defaultRateLimits` (see the "no route" test for why it matters).
 */
export function makeTopology(options: { defaultRateLimits?: boolean } = {}): Topology {
  if (made === 0) removeStaleNamespaces();
  made += 1;
  const id = `${process.pid}x${made}`;
  const a = `skA${id}`;
  const r = `skR${id}`;
  const b = `skB${id}`;
  const created: string[] = [];
  const remove = (): void => {
    for (const ns of created.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  };
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const sysctl = (ns: string, ...settings: string[]): void => {
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...settings], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  };
  process.once('exit', remove);
  try {
    for (const ns of [a, r, b]) {
      ip('netns', 'add', ns);
      created.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // No duplicate address detection, so IPv6 addresses work at once; no ICMP rate limit, so
      // back-to-back tests all get their time exceeded messages.
      sysctl(ns, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      sysctl(ns, 'net.ipv6.icmp.ratelimit=0');
      if (!options.defaultRateLimits) sysctl(ns, 'net.ipv4.icmp_ratelimit=0');
      try {
        // Since Linux 6.2 the global ICMP budget is per namespace (and randomised since 6.11):
        // make it large enough that iputils and sockkit, run back to back, never starve.
        sysctl(ns, 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=10000');
      } catch {
        // an older kernel: the budget is host-wide and cannot be set from here
      }
    }
    const short = id.slice(-9); // interface names are at most 15 characters
    ip('link', 'add', `a${short}`, 'netns', a, 'type', 'veth', 'peer', 'name', `ra${short}`, 'netns', r);
    ip('link', 'add', `b${short}`, 'netns', b, 'type', 'veth', 'peer', 'name', `rb${short}`, 'netns', r);
    const addresses: Array<[string, string, string, string]> = [
      [a, `a${short}`, '10.77.1.2/24', 'fd77:1::2/64'],
      [r, `ra${short}`, '10.77.1.1/24', 'fd77:1::1/64'],
      [r, `rb${short}`, '10.77.2.1/24', 'fd77:2::1/64'],
      [b, `b${short}`, '10.77.2.2/24', 'fd77:2::2/64'],
    ];
    for (const [ns, dev, v4, v6] of addresses) {
      ip('-n', ns, 'addr', 'add', v4, 'dev', dev);
      ip('-n', ns, 'addr', 'add', v6, 'dev', dev, 'nodad');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    ip('-n', a, 'route', 'add', 'default', 'via', '10.77.1.1');
    ip('-n', a, '-6', 'route', 'add', 'default', 'via', 'fd77:1::1');
    ip('-n', b, 'route', 'add', 'default', 'via', '10.77.2.1');
    ip('-n', b, '-6', 'route', 'add', 'default', 'via', 'fd77:2::1');
    sysctl(r, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  } catch (err) {
    remove();
    throw err;
  }
  return { a, r, b, remove };
}

/** runIn runs `command ARGS` inside namespace `ns` to completion, killing it after `timeout` ms. */
export function runIn(
  ns: string,
  command: string,
  args: readonly string[],
  timeout = 8000,
): Promise<CliResult> {
  return runProgram('ip', ['netns', 'exec', ns, command, ...args], timeout);
}

/** sockkitIn runs the built CLI inside namespace `ns`. */
export function sockkitIn(ns: string, args: readonly string[], timeout?: number): Promise<CliResult> {
  return runCli(args, {
    wrapper: ['ip', 'netns', 'exec', ns],
    ...(timeout === undefined ? {} : { timeout }),
  });
}
