import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { benchJson } from '../bench/bench-json.js';
import { type Service, startDelimitedServer } from '../bench/servers.js';
import { runCli } from '../helpers.js';

const END = ['--frame', 'delimiter', '--delimiter', '\\r\\n\\r\\n'];

describe('--frame delimiter against a Python server whose replies end with \\r\\n\\r\\n, split across reads', {
  timeout: 40_000,
}, () => {
  let server: Service;
  before(async () => {
    server = await startDelimitedServer();
  });
  after(() => server.stop());

  test('bench ends each request with the delimiter and checks each reply, delimiter included', async () => {
    const { summary, code, stderr } = await benchJson([
      server.url,
      ...END,
      '--request',
      'req {conn}.{seq}',
      '--expect',
      'ok:req {conn}.{seq}\\r\\n\\r\\n',
      '-c',
      '2',
      '-d',
      '2',
      '-t',
      '500ms',
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(summary.messages > 4, `${summary.messages} replies`);
    assert.equal(summary.mismatches, 0);
    assert.equal(summary.errors, 0);
  });

  test('bench counts a reply that differs from --expect and fails the run', async () => {
    const { summary, code } = await benchJson([
      server.url,
      ...END,
      '--request',
      'req',
      '--expect',
      'ok:req\\r\\n\\r\\n+',
      '-t',
      '300ms',
    ]);
    assert.equal(code, 1);
    assert.ok(summary.mismatches > 0);
  });

  test('send writes the message with the delimiter and prints each reply frame on a line', async () => {
    const result = await runCli(['send', server.url, 'quit', ...END]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'ok:quit\n');
  });

  test('send refuses a message that holds the delimiter, or makes one with it, in one line', async () => {
    // `a\r\n` + `\r\n\r\n` would be read back as `a`: the delimiter overlaps itself.
    for (const message of ['a\r\n\r\nb', 'a\r\n']) {
      const result = await runCli(['send', server.url, message, ...END]);
      assert.equal(result.code, 2, JSON.stringify(message));
      assert.equal(
        result.stderr,
        'sockkit: send: the message cannot be one delimiter frame: delimiter: a frame must not contain its delimiter, nor end in bytes that make one with it\n',
      );
    }
  });

  test('connect sends each line typed as one delimited frame', async () => {
    const result = await runCli(['connect', server.url, ...END], { input: 'a\nquit\n' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'ok:a\nok:quit\n');
  });
});

describe('--delimiter usage', { timeout: 20_000 }, () => {
  test('--frame delimiter needs --delimiter, and --delimiter needs --frame delimiter', async () => {
    const [bench, send, other, empty] = await Promise.all([
      runCli(['bench', 'tcp://127.0.0.1:9', '--frame', 'delimiter', '--request', 'x']),
      runCli(['send', 'tcp://127.0.0.1:9', 'x', '--frame', 'delimiter']),
      runCli(['connect', 'tcp://127.0.0.1:9', '--frame', 'len16', '--delimiter', '\\0']),
      runCli(['send', 'tcp://127.0.0.1:9', 'x', '--frame', 'delimiter', '--delimiter', '']),
    ]);
    assert.deepEqual(
      [bench, send, other, empty].map((r) => r.code),
      [2, 2, 2, 2],
    );
    assert.equal(
      bench.stderr,
      "sockkit: bench: --frame delimiter needs --delimiter BYTES (e.g. --delimiter '\\r\\n\\r\\n')\n",
    );
    assert.match(send.stderr, /^sockkit: send: --frame delimiter needs --delimiter BYTES/);
    assert.equal(other.stderr, 'sockkit: connect: --delimiter needs --frame delimiter\n');
    assert.equal(empty.stderr, 'sockkit: --delimiter: must be at least one byte\n');
  });
});
