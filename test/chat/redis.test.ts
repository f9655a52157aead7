import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { runCli, tempDir } from '../helpers.js';
import { type RedisServer, startRedisServer, stopRedisServer } from './redis-server.js';
import { type RedisBackend, redisDirectoryTests } from './redis-suite.js';

// One redis-server for the whole file, reached over a Unix socket.
const dir = tempDir();
let server: RedisServer | undefined;
let backend: RedisBackend | undefined;
before(async () => {
  const socket = `${dir.path}/redis.sock`;
  server = await startRedisServer(dir.path, { extra: ['--unixsocket', socket] });
  const url = `unix:${socket}`;
  backend = {
    url,
    flags: ['--redis', url],
    options: {},
    client: () => new Redis({ path: socket }),
  };
});
after(async () => {
  await stopRedisServer(server, 'SIGKILL');
  dir.remove();
});

redisDirectoryTests(() => backend as RedisBackend);

describe('chat serve --redis', { timeout: 30_000 }, () => {
  test('reports an unreachable Redis in one line and exits 1', async () => {
    const result = await runCli([
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--redis',
      `unix:${dir.path}/none.sock`,
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: connect unix:.*none\.sock: redis: no such socket file \(is a server listening there\?\)\n$/,
    );
  });

  test('rejects a --redis-lease under 100ms as a usage error', async () => {
    const result = await runCli(['chat', 'serve', '--redis', 'redis://127.0.0.1:1', '--redis-lease', '50ms']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'sockkit: --redis-lease: must be from 100ms to 24.8 days (got 50ms)\n');
  });

  test('rejects an empty --redis-prefix as a usage error (it would be no hash tag)', async () => {
    const result = await runCli(['chat', 'serve', '--redis', 'redis://127.0.0.1:1', '--redis-prefix', '']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, 'sockkit: --redis-prefix: must not be empty\n');
  });

  test('rejects --redis-cluster with a Unix socket as a usage error', async () => {
    const result = await runCli(['chat', 'serve', '--redis', 'unix:/tmp/x.sock', '--redis-cluster']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'sockkit: --redis: --redis-cluster takes a redis:// or rediss:// URL of one node (got unix:/tmp/x.sock)\n',
    );
  });
});
