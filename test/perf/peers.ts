/**
 * Helpers for the perf tests: a sockkit perf server in this process that records every finished
 * test, Debian's iperf3 as a server or a client, and a free port for iperf3 (which cannot take 0).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { InetAddress } from '../../src/address.js';
import { listenPerf, servePerf } from '../../src/perf/server.js';
import type { ServerTestSummary } from '../../src/perf/server-test.js';
import { hasCommand, type Peer, startPeer } from '../interop/udp-peers.js';

/** whyNoIperf3 says why the iperf3 interop tests cannot run, or undefined when they can. */
export function whyNoIperf3(): string | undefined {
  return hasCommand('iperf3') ? undefined : 'needs iperf3 (apt-get install iperf3)';
}

/** RunningServer is a sockkit perf server on 127.0.0.1. */
export interface RunningServer {
  readonly address: InetAddress;
  readonly port: number;
  /** Every test that ended, in order. */
  readonly tests: ServerTestSummary[];
  /**
   * testOf resolves with the summary of the test named by `cookie` once it ends (at once if it
   * has). A test that hangs never hands its summary to another: each is matched by its cookie.
   * It rejects at once when `cookie` is undefined (the client never got as far as naming its test).
   */
  testOf(cookie: string | undefined): Promise<ServerTestSummary>;
  stop(): Promise<void>;
}

/** startServer runs servePerf on 127.0.0.1, port 0 (TCP and UDP on one port). */
export async function startServer(options: { setupTimeout?: number } = {}): Promise<RunningServer> {
  const controller = new AbortController();
  const address: InetAddress = { scheme: 'tcp', host: '127.0.0.1', port: 0 };
  const bound = await listenPerf(address, { signal: controller.signal });
  const tests: ServerTestSummary[] = [];
  /** Summaries nobody has asked for yet, and the waiters for summaries not yet in, by cookie. */
  const untaken = new Map<string, ServerTestSummary>();
  const waiters = new Map<string, (t: ServerTestSummary) => void>();
  const served = servePerf([bound], {
    signal: controller.signal,
    grace: 200,
    setupTimeout: options.setupTimeout,
    onTest: (test) => {
      tests.push(test);
      const waiter = waiters.get(test.cookie);
      waiters.delete(test.cookie);
      if (waiter) waiter(test);
      else untaken.set(test.cookie, test);
    },
  });
  const port = (bound.listener.address as InetAddress).port;
  return {
    address: { scheme: 'tcp', host: '127.0.0.1', port },
    port,
    tests,
    testOf: (cookie) => {
      if (cookie === undefined)
        return Promise.reject(new Error('no cookie: the client never named its test'));
      if (waiters.has(cookie)) return Promise.reject(new Error(`already waiting for test ${cookie}`));
      const ended = untaken.get(cookie);
      untaken.delete(cookie);
      return ended ? Promise.resolve(ended) : new Promise((resolve) => waiters.set(cookie, resolve));
    },
    stop: async () => {
      controller.abort();
      await served;
    },
  };
}

/** freePort returns a TCP port nobody listens on right now, for iperf3 -s. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** startIperf3Server runs `iperf3 -s -1` on a free port and resolves once it listens. */
export async function startIperf3Server(): Promise<{ peer: Peer; port: number; address: InetAddress }> {
  const port = await freePort();
  const peer = await startPeer('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port), '--forceflush']);
  await peer.until('Server listening', 5000);
  return { peer, port, address: { scheme: 'tcp', host: '127.0.0.1', port } };
}

/** IperfResult is what `iperf3 -c ... -J` printed, and how it exited. */
export interface IperfResult {
  readonly code: number | null;
  /** The cookie iperf3 named its test with (`start.cookie`), for RunningServer.testOf. */
  readonly cookie: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: iperf3 JSON, read field by field in the tests
  readonly json: Record<string, any>;
  readonly stdout: string;
}

/** runIperf3Client runs `iperf3 -c 127.0.0.1 -p PORT -J ARGS` and resolves with its JSON once it exits. */
export function runIperf3Client(port: number, args: readonly string[]): Promise<IperfResult> {
  return new Promise((resolve) => {
    const child = spawn('iperf3', ['-c', '127.0.0.1', '-p', String(port), '-J', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      // biome-ignore lint/suspicious/noExplicitAny: as above
      let json: Record<string, any> = {};
      try {
        json = JSON.parse(stdout);
      } catch {
        json = { unparsed: stdout };
      }
      const cookie = json.start?.cookie;
      resolve({ code, cookie: typeof cookie === 'string' ? cookie : undefined, json, stdout });
    });
  });
}
