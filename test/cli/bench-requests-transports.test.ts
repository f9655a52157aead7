import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { benchJson } from '../bench/bench-json.js';
import { type Service, startUdpServer } from '../bench/servers.js';
import { type RedisServer, startRedisServer, stopRedisServer } from '../chat/redis-server.js';
import { type Running, startCli, tempDir } from '../helpers.js';

const bench = benchJson;

describe('bench --request over udp: one datagram each way', { timeout: 30_000 }, () => {
  let server: Service;
  const dir = tempDir();
  before(async () => {
    server = await startUdpServer();
  });
  after(async () => {
    await server.stop();
    dir.remove();
  });

  test('checks each reply datagram against the request it answers, closed and open loop', async () => {
    const args = [server.url, '--request', 'q {conn}.{seq}', '--expect', 'ok:q {conn}.{seq}', '-c', '3'];
    const closed = await bench([...args, '-d', '4', '-t', '1s']);
    assert.equal(closed.code, 0, closed.stderr);
    assert.ok(closed.summary.messages > 12);
    assert.equal(closed.summary.mismatches, 0);
    const open = await bench([...args, '--rate', '300', '-t', '1s']);
    assert.equal(open.code, 0, open.stderr);
    assert.ok(open.summary.messages >= 250, JSON.stringify(open.summary));
    assert.equal(open.summary.lost, 0);
  });

  test('counts unanswered requests as lost and a second answer as duplicated', async () => {
    const file = `${dir.path}/udp.txt`;
    writeFileSync(file, 'a\nb\ndrop\nc\n');
    const lossy = await bench([
      server.url,
      '--requests',
      file,
      '--expect-match',
      '^ok:',
      '-c',
      '2',
      '--loss-timeout',
      '100ms',
      '-t',
      '1s',
    ]);
    assert.equal(lossy.code, 0, lossy.stderr); // UDP may lose: reported, not a failure
    assert.ok(
      lossy.summary.lost > 0 && lossy.summary.lost >= lossy.summary.messages / 3 - 4,
      JSON.stringify(lossy.summary),
    );
    const twice = await bench([server.url, '--request', 'twice', '--expect', 'ok:twice', '-t', '500ms']);
    assert.equal(twice.code, 1);
    assert.ok(twice.summary.duplicated > 0);
  });
});

describe('bench --request over unix and tls', { timeout: 30_000 }, () => {
  const dir = tempDir();
  let redis: RedisServer;
  let tls: Running;
  before(async () => {
    redis = await startRedisServer(dir.path, { extra: ['--unixsocket', `${dir.path}/redis.sock`] });
    tls = await startCli(['echo', 'tls://127.0.0.1:0', '--self-signed']);
  });
  after(async () => {
    await stopRedisServer(redis);
    await tls.stop();
    dir.remove();
  });

  test('loads redis-server over its Unix socket', async () => {
    const { summary, code, stderr } = await bench([
      `unix:${dir.path}/redis.sock`,
      '--request',
      'PING\\r\\n',
      '--expect',
      '+PONG\\r\\n',
      '-c',
      '4',
      '-d',
      '8',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 32);
    assert.equal(summary.mismatches, 0);
  });

  test('loads a TLS server with line requests', async () => {
    const url = tls.urls[0] as string;
    const { summary, code, stderr } = await bench([
      url,
      '--insecure',
      '--request',
      'hi {conn} {seq}',
      '--frame',
      'line',
      '--expect',
      'hi {conn} {seq}\\n',
      '-c',
      '2',
      '-d',
      '2',
      '-t',
      '1s',
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 4);
    assert.equal(summary.mismatches, 0);
  });
});
