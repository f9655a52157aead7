import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPort, runCli, startCli } from '../helpers.js';
import { LineUser } from './line-user.js';

describe('chat over tls://', { timeout: 30_000 }, () => {
  test('an ncat --ssl user and a chat join --insecure script talk through a TLS broker', async () => {
    const server = await startCli(['chat', 'serve', 'tls://127.0.0.1:0', '--self-signed']);
    const url = server.urls[0] as string;
    assert.match(server.stderr(), /SHA-256 fingerprint/);
    const nc = LineUser.ncat('--ssl', '127.0.0.1', String(hostPort(url).port));
    try {
      nc.say('/nick watcher');
      await nc.next(/is now known as watcher$/);
      const joined = await runCli(['chat', 'join', url, '--nick', 'secure', '--insecure'], {
        input: 'over TLS\n/quit\n',
      });
      assert.equal(joined.code, 0, joined.stderr);
      assert.match(joined.stderr, /--insecure/);
      assert.equal(await nc.next(/^<secure>/), '<secure> over TLS');
    } finally {
      nc.quit();
      await server.stop();
    }
  });
});
