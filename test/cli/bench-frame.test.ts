import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatAddress, parseAddress } from '../../src/address.js';
import { codecFor, type FrameName } from '../../src/framing/frame-names.js';
import { FramedConn } from '../../src/framing/framed-conn.js';
import { listen } from '../../src/stream/listen.js';
import { runCli } from '../helpers.js';

/** frameEcho decodes each frame with `name` and sends it back re-encoded, recording frame sizes. */
async function frameEcho(
  name: FrameName,
  delimiter?: string,
): Promise<{ url: string; sizes: Set<number>; close: () => Promise<void> }> {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const sizes = new Set<number>();
  listener.handle((conn) => {
    const framed = new FramedConn(conn, codecFor(name, { delimiter }));
    void (async () => {
      try {
        for await (const frame of framed) {
          sizes.add(frame.length);
          if (!framed.write(frame)) await new Promise((resolve) => conn.socket.once('drain', resolve));
        }
      } catch {
        // the bench closes its connections at the end of the run
      }
      conn.close();
    })();
  });
  return { url: formatAddress(listener.address), sizes, close: () => listener.close() };
}

describe('bench --frame', { timeout: 30_000 }, () => {
  // '||' is printable: the payloads must avoid it, as a line's avoid the line feed.
  const framings = [['line'], ['len16'], ['varint'], ['delimiter', '||']] as const;
  for (const [name, delimiter] of framings) {
    test(`sends well-formed ${name} frames that a framing server decodes and echoes`, async () => {
      const server = await frameEcho(name, delimiter);
      const result = await runCli([
        'bench',
        server.url,
        '--frame',
        name,
        ...(delimiter ? ['--delimiter', delimiter] : []),
        '-s',
        '200',
        '-c',
        '2',
        '-t',
        '500ms',
        '--json',
      ]);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout.toString().trim().split('\n').at(-1) as string);
      assert.equal(summary.mismatches, 0);
      assert.ok(summary.messages > 0);
      assert.deepEqual([...server.sizes], [200]);
      await server.close();
    });
  }

  test('refuses --frame on UDP and a len8 payload over 255 bytes', async () => {
    const udp = await runCli(['bench', 'udp://127.0.0.1:9', '--frame', 'len16', '-t', '1s']);
    assert.equal(udp.code, 2);
    assert.match(
      udp.stderr,
      /^sockkit: bench: --frame applies to tcp:\/\/, unix: or tls:\/\/ addresses only, not udp:/,
    );
    const len8 = await runCli(['bench', 'tcp://127.0.0.1:9', '--frame', 'len8', '-s', '300', '-t', '1s']);
    assert.equal(len8.code, 2);
    assert.match(len8.stderr, /--size must be at most 255 B when frames are len8/);
  });
});
