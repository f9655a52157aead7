/**
 * Real Redis servers for the chat's tests: one server on a TCP port or a Unix socket, or a Redis
 * Cluster of three masters on loopback. Nothing is mocked; every server runs without persistence
 * in a temp folder, and every server still running when the test process exits is killed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** RedisServer is one redis-server process the test started. */
export interface RedisServer {
  readonly port: number;
  readonly child: ChildProcess;
}

/** freePort returns a loopback TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * startRedisServer runs redis-server on 127.0.0.1:`port` (a free port when not given), without
 * persistence, with `extra` arguments, and resolves once it accepts connections.
 */
export async function startRedisServer(
  dir: string,
  options: { port?: number | undefined; extra?: readonly string[] } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.extra ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/ready to accept connections/i.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return { port, child };
}

/** stopRedisServer stops `server` with `signal` (SIGTERM by default) and waits for it to exit. */
export async function stopRedisServer(
  server: RedisServer | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill(signal);
  await exited;
}

/** RedisCluster is a cluster of three masters on loopback, without replicas. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** url is the URL of the first node, the seed for `--redis-cluster`. */
  readonly url: string;
  /** stop kills every node. */
  stop(): Promise<void>;
}

/**
 * startRedisCluster starts three cluster-enabled masters (client and bus ports picked free),
 * joins them with `redis-cli --cluster create`, and resolves once every node reports
 * `cluster_state:ok`. On failure it stops what it started.
 */
export async function startRedisCluster(dir: string, deadline = 15_000): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => stopRedisServer(node, 'SIGKILL')));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const busPort = await freePort();
      nodes.push(
        await startRedisServer(dir, {
          extra: [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-config-file',
            `${dir}/nodes-${i}.conf`,
            '--dbfilename',
            `dump-${i}.rdb`,
          ],
        }),
      );
    }
    await promisify(execFile)(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: deadline },
    );
    const until = Date.now() + deadline;
    for (const node of nodes) await waitClusterOk(node.port, until);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, url: `redis://127.0.0.1:${nodes[0]?.port}`, stop };
}

/**
 * waitClusterOk asks one node for `CLUSTER INFO` until it reports `cluster_state:ok`. Redis has
 * no notification for that state, so this asks again after each reply, 20 ms apart, until `until`.
 */
async function waitClusterOk(port: number, until: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await client.connect();
    for (;;) {
      const info = await client.cluster('INFO');
      if (/^cluster_state:ok\r?$/m.test(info)) return;
      if (Date.now() > until) throw new Error(`cluster node ${port} not ok: ${info}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    client.disconnect();
  }
}

/** keysOf lists the keys matching `pattern` on one server, or on every master of a cluster. */
export async function keysOf(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const servers = client instanceof Cluster ? client.nodes('master') : [client];
  const found = await Promise.all(servers.map((server) => server.keys(pattern)));
  return found.flat().sort();
}
