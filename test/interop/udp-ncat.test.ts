import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPort, runCli, startCli } from '../helpers.js';
import { hasCommand, startPeer, unusedUdpPort } from './udp-peers.js';

const skip = hasCommand('ncat') ? false : 'ncat is not installed (apt-get install ncat)';

describe('sockkit against ncat -u', { skip }, () => {
  for (const url of ['udp://127.0.0.1:0', 'udp://[::1]:0']) {
    test(`an ncat -u client gets its lines echoed by sockkit echo ${url.replace(':0', '')}`, async () => {
      const server = await startCli(['echo', url]);
      const { host, port } = hostPort(server.urls[0] as string);
      const client = await startPeer('ncat', ['-u', host, String(port)]);
      try {
        // ncat sends each stdin read as a datagram; stdin stays open until the replies are in.
        client.child.stdin?.write('hello from ncat\n');
        await client.until('hello from ncat\n');
        client.child.stdin?.write('second line\n');
        await client.until('second line\n');
        client.child.stdin?.end();
      } finally {
        await client.stop();
        assert.equal((await server.stop()).code, 0);
      }
    });
  }

  test('sockkit send udp:// gets its reply from ncat -u -l --exec /bin/cat', async () => {
    const port = await unusedUdpPort();
    const server = await startPeer(
      'ncat',
      ['-v', '-u', '-l', '127.0.0.1', String(port), '--exec', '/bin/cat'],
      /Listening on/,
    );
    try {
      const result = await runCli(['send', `udp://127.0.0.1:${port}`, 'ping ncat\n']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), 'ping ncat\n');
    } finally {
      await server.stop();
    }
  });

  test('sockkit connect udp:// delivers stdin to ncat -u -l, datagram by datagram', async () => {
    const port = await unusedUdpPort();
    const server = await startPeer('ncat', ['-v', '-u', '-l', '127.0.0.1', String(port)], /Listening on/);
    try {
      const result = await runCli(['connect', `udp://127.0.0.1:${port}`, '--lines', '--linger', '200ms'], {
        input: 'first\nsecond\n',
      });
      assert.equal(result.code, 0, result.stderr);
      await server.until('first\nsecond\n');
    } finally {
      await server.stop();
    }
  });

  test('sockkit listen udp:// prints what an ncat -u client sends and answers it from stdin', async () => {
    const server = await startCli(['listen', 'udp://127.0.0.1:0'], { stdin: 'pipe' });
    const { port } = hostPort(server.urls[0] as string);
    const client = await startPeer('ncat', ['-u', '127.0.0.1', String(port)]);
    try {
      let heard = '';
      const got = new Promise<void>((resolve) =>
        server.child.stdout?.on('data', (c: Buffer) => {
          heard += c.toString();
          if (heard.includes('from ncat\n')) resolve();
        }),
      );
      client.child.stdin?.write('from ncat\n');
      await got;
      server.child.stdin?.write('from sockkit\n');
      await client.until('from sockkit\n');
    } finally {
      client.child.stdin?.end();
      await client.stop();
      assert.equal((await server.stop()).code, 0);
    }
  });
});
