import { after, before } from 'node:test';
import { Cluster } from 'ioredis';
import { tempDir } from '../helpers.js';
import { type RedisCluster, startRedisCluster } from './redis-server.js';
import { type RedisBackend, redisDirectoryTests } from './redis-suite.js';

// One Redis Cluster (three masters on loopback, no replicas) for the whole file, and the same
// tests as on one server.
const dir = tempDir();
let cluster: RedisCluster | undefined;
let backend: RedisBackend | undefined;
before(
  async () => {
    cluster = await startRedisCluster(dir.path);
    const seed = cluster.nodes[0]?.port as number;
    backend = {
      url: cluster.url,
      flags: ['--redis', cluster.url, '--redis-cluster'],
      options: { cluster: true },
      client: () => new Cluster([{ host: '127.0.0.1', port: seed }]),
    };
  },
  { timeout: 20_000 },
);
after(async () => {
  await cluster?.stop();
  dir.remove();
});

redisDirectoryTests(() => backend as RedisBackend);
