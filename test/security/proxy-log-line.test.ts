/**
 * The proxy's log line (one per connection, on stderr) names the destination a client asked
 * for: a SOCKS5 name is any 1 to 255 bytes, so a client could write a line break and a forged
 * line of its own, or terminal escapes, into the operator's log. The line shows them, escaped.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { proxyLogLine } from '../../src/cli/commands/proxy.js';
import { startCli } from '../helpers.js';

/** controlsIn returns the C0 and C1 control characters and DEL `text` holds, in order. */
function controlsIn(text: string): string {
  return [...text].filter((char) => char < ' ' || (char >= '\x7f' && char <= '\x9f')).join('');
}

test('a SOCKS5 name with a line break and escapes cannot forge a log line or reach the terminal', {
  timeout: 10_000,
}, async () => {
  const proxy = await startCli(['proxy', 'socks5://127.0.0.1:0']);
  try {
    const name = Buffer.from('x\nsockkit: proxy 10.0.0.1:1 socks5 forged\x1b[31m\x9b2J\r', 'latin1');
    const client = connect(Number(new URL(proxy.urls[0] as string).port), '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    client.write(
      Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length]), name, Buffer.from([0, 80])]),
    );
    client.resume();
    await once(client, 'close');
    await proxy.waitFor(/refused: malformed destination name.*\n/);
    const lines = proxy.stderr().split('\n');
    assert.ok(!lines.some((line) => line.includes('forged') && !line.includes('127.0.0.1:')), proxy.stderr());
    assert.equal(controlsIn(proxy.stderr().replaceAll('\n', '')), '', proxy.stderr());
  } finally {
    await proxy.stop();
  }
});

test('proxyLogLine writes every control character of the event visibly', () => {
  const line = proxyLogLine({
    client: '127.0.0.1:5000',
    protocol: 'socks5',
    command: 'connect',
    destination: 'a\x00b\x1b[2J\x85\x7f:80',
    requests: 0,
    user: undefined,
    outcome: 'refused: malformed destination name',
    bytesUp: 0,
    bytesDown: 0,
    durationMs: 5,
  } as Parameters<typeof proxyLogLine>[0]);
  assert.equal(controlsIn(line), '', line);
  assert.match(line, /^proxy 127\.0\.0\.1:5000 socks5 connect a\^@b\^\[\[2J<U\+0085>\^\?:80: refused/);
});
