import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostPort, runCli, startCli } from '../helpers.js';
import { hasCommand, startPeer, unusedUdpPort } from './udp-peers.js';

const skip = hasCommand('socat') ? false : 'socat is not installed (apt-get install socat)';

describe('sockkit against socat UDP', { skip }, () => {
  for (const [url, socatAddress] of [
    ['udp://127.0.0.1:0', 'UDP4:127.0.0.1'],
    ['udp://[::1]:0', 'UDP6:[::1]'],
  ] as const) {
    test(`socat ${socatAddress.split(':')[0]} gets a binary datagram back from sockkit echo, byte for byte`, async () => {
      const server = await startCli(['echo', url]);
      const { port } = hostPort(server.urls[0] as string);
      const payload = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 31) & 0xff));
      try {
        // socat sends stdin as datagrams and waits 0.5 s (-t) after its end for the reply.
        const client = await startPeer('socat', ['-t', '1', '-', `${socatAddress}:${port}`]);
        client.child.stdin?.end(payload);
        await new Promise((resolve) => client.child.on('close', resolve));
        assert.ok(client.stdoutBytes().equals(payload), `got ${client.stdoutBytes().length} bytes`);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    });
  }

  test('sockkit send udp:// works against socat UDP-RECVFROM,fork EXEC:cat, twice', async () => {
    const port = await unusedUdpPort('::1');
    const server = await startPeer(
      'socat',
      ['-d', '-d', `UDP6-RECVFROM:${port},bind=[::1],fork`, 'EXEC:cat'],
      /receiving on/,
    );
    try {
      for (const message of ['first', 'second']) {
        const result = await runCli(['send', `udp://[::1]:${port}`, message]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.toString(), message);
      }
    } finally {
      await server.stop();
    }
  });

  test('sockkit serve time answers socat with 4 bytes: the clock between the request and the reply', async () => {
    const server = await startCli(['serve', 'time', 'udp://127.0.0.1:0']);
    const { port } = hostPort(server.urls[0] as string);
    try {
      const before = Math.floor(Date.now() / 1000);
      const client = await startPeer('socat', ['-t', '1', '-', `UDP4:127.0.0.1:${port}`]);
      client.child.stdin?.end('\n');
      await new Promise((resolve) => client.child.on('close', resolve));
      const reply = client.stdoutBytes();
      assert.equal(reply.length, 4);
      // Seconds since 1900 (RFC 868); read between the request and socat's exit, however slow the machine.
      const after = Math.ceil(Date.now() / 1000);
      const seconds = reply.readUInt32BE() - 2_208_988_800;
      assert.ok(seconds >= before && seconds <= after, `${seconds} not in [${before}, ${after}]`);
    } finally {
      await server.stop();
    }
  });
});
