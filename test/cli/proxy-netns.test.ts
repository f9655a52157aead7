import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCli } from '../helpers.js';
import { makeTopology, sockkitIn, type Topology, whyNoNamespaces } from '../raw/netns.js';

const skip = whyNoNamespaces();

/**
 * The safe default on a real interface: host B's 10.77.2.2 can be reached from host A, so an
 * open proxy there would serve anyone on the network (here, A). Namespaces the test makes; no
 * traffic leaves them.
 */
describe('sockkit proxy on an address other hosts can reach', { skip, timeout: 30_000 }, () => {
  let topology: Topology | undefined;
  before(() => {
    if (!skip) topology = makeTopology();
  });
  after(() => topology?.remove());

  test('refuses to start open there, in one line, exit 2', { timeout: 8000 }, async () => {
    const { b } = topology as Topology;
    const result = await sockkitIn(b, ['proxy', 'socks5://10.77.2.2:1080']);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'sockkit: proxy: socks5://10.77.2.2:1080: refusing to run an open proxy where other hosts can reach it; ' +
        'require a login (--user NAME:PASSWORD) or allow only some clients (--allow CIDR)\n',
    );
  });

  test('with a login it starts, and a client on another host gets through only with that login', {
    timeout: 15_000,
  }, async () => {
    const { a, b } = topology as Topology;
    const wrapper = ['ip', 'netns', 'exec', b];
    const echo = await startCli(['echo', 'tcp://127.0.0.1:7007'], { wrapper });
    const proxy = await startCli(['proxy', 'socks5://10.77.2.2:1080', '--user', 'dave:pw'], { wrapper });
    try {
      assert.deepEqual(proxy.urls, ['socks5://10.77.2.2:1080']);
      // B's loopback echo, reached from A: exactly what an open proxy would give away.
      const through = await sockkitIn(a, [
        'bench',
        'tcp://127.0.0.1:7007',
        '--proxy',
        'socks5://dave:pw@10.77.2.2:1080',
        '-t',
        '1s',
        '--json',
      ]);
      assert.equal(through.code, 0, through.stderr);
      const summary = JSON.parse(through.stdout.toString().trim().split('\n').pop() as string);
      assert.ok(summary.messages > 0);
      const refused = await sockkitIn(a, [
        'send',
        'tcp://127.0.0.1:7007',
        'x',
        '--proxy',
        'socks5://10.77.2.2:1080',
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /proxy refused: no authentication method in common/);
    } finally {
      await proxy.stop();
      await echo.stop();
    }
  });

  test('with client allow rules it starts too, and refuses clients outside them', {
    timeout: 15_000,
  }, async () => {
    const { a, b } = topology as Topology;
    const wrapper = ['ip', 'netns', 'exec', b];
    const proxy = await startCli(['proxy', 'socks5://10.77.2.2:1081', '--allow', '10.77.2.0/24'], {
      wrapper,
    });
    try {
      const outside = await sockkitIn(a, [
        'send',
        'tcp://127.0.0.1:7',
        'x',
        '--proxy',
        'socks5://10.77.2.2:1081',
      ]);
      assert.equal(outside.code, 1);
      assert.match(
        outside.stderr,
        /^sockkit: connect tcp:\/\/127\.0\.0\.1:7 via socks5:\/\/10\.77\.2\.2:1081: /,
      );
    } finally {
      await proxy.stop();
    }
  });
});
