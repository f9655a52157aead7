import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import { benchCommand } from '../../src/cli/commands/bench.js';
import { chatCommand } from '../../src/cli/commands/chat.js';
import { connectCommand } from '../../src/cli/commands/connect.js';
import { echoCommand } from '../../src/cli/commands/echo.js';
import { listenCommand } from '../../src/cli/commands/listen.js';
import { pingCommand } from '../../src/cli/commands/ping.js';
import { sendCommand } from '../../src/cli/commands/send.js';
import { serveCommand } from '../../src/cli/commands/serve.js';
import { tracerouteCommand } from '../../src/cli/commands/traceroute.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../helpers.js';

// Every flag that takes a duration, a size or a count has a range. A value outside it is a usage
// error before anything starts: exit 2, one line naming the flag and the range, no stack trace.
// (Before, `--grace 600h` was accepted and fired at once, and `--max-line 99999999999999999999`
// started a chat server that closed every client.)
const TCP = 'tcp://127.0.0.1:9';
const UDP = 'udp://127.0.0.1:9';
const ALWAYS = 'from 0s to 24.8 days';
const TIMER = 'from 1ms to 24.8 days';

const cases: [string[], string][] = [
  // Durations: at most the longest timer Node keeps; zero only where it means something.
  [['echo', '--grace', '600h'], `--grace: must be ${ALWAYS} (got 600h)`],
  [['serve', 'echo', '--grace', '2147483648ms'], `--grace: must be ${ALWAYS} (got 2147483648ms)`],
  [['chat', 'serve', '--grace', '600h'], `--grace: must be ${ALWAYS} (got 600h)`],
  [['send', TCP, 'x', '--timeout', '600h'], `--timeout: must be ${TIMER} (got 600h)`],
  [['connect', TCP, '--timeout', '0ms'], `--timeout: must be ${TIMER} (got 0ms)`],
  [['chat', 'join', TCP, '--timeout', '700h'], `--timeout: must be ${TIMER} (got 700h)`],
  [['connect', UDP, '--linger', '600h'], `--linger: must be ${ALWAYS} (got 600h)`],
  [['echo', '--idle-timeout', '0'], `--idle-timeout: must be ${TIMER} (got 0)`],
  [['listen', 'tcp://127.0.0.1:0', '--idle-timeout', '600h'], `--idle-timeout: must be ${TIMER} (got 600h)`],
  [['echo', '--handshake-timeout', '0s'], `--handshake-timeout: must be ${TIMER} (got 0s)`],
  [['bench', TCP, '--duration', '0'], `--duration: must be ${TIMER} (got 0)`],
  [['bench', TCP, '--loss-timeout', '600h'], `--loss-timeout: must be ${TIMER} (got 600h)`],
  [['bench', TCP, '--timeout', '600h'], `--timeout: must be ${TIMER} (got 600h)`],
  [['chat', 'serve', '--redis-lease', '50ms'], '--redis-lease: must be from 100ms to 24.8 days (got 50ms)'],
  [['ping', '127.0.0.1', '--interval', '0'], `--interval: must be ${TIMER} (got 0)`],
  [['ping', '127.0.0.1', '--timeout', '600h'], `--timeout: must be ${TIMER} (got 600h)`],
  [['traceroute', '127.0.0.1', '--timeout', '0'], `--timeout: must be ${TIMER} (got 0)`],
  // Sizes.
  [
    ['chat', 'serve', '--max-line', '99999999999999999999'],
    '--max-line: must be from 1B to 16MiB (got 99999999999999999999)',
  ],
  [['chat', 'serve', '--max-queue', '2GiB'], '--max-queue: must be from 1B to 1GiB (got 2GiB)'],
  [['bench', TCP, '--size', '0'], '--size: must be from 1B to 64MiB (got 0)'],
  [
    ['send', TCP, 'x', '--frame', 'len32', '--max-frame', '1GiB'],
    '--max-frame: must be from 1B to 256MiB (got 1GiB)',
  ],
  [['send', UDP, 'x', '--receive-buffer', '2GiB'], '--receive-buffer: must be from 1B to 1GiB (got 2GiB)'],
  [['ping', '127.0.0.1', '--size', '70000'], '--size: must be from 0B to 65507B (got 70000)'],
  [['traceroute', '127.0.0.1', '--size', '65001'], '--size: must be from 0B to 65000B (got 65001)'],
  // Counts.
  [['bench', TCP, '-c', '0'], '--connections: must be from 1 to 100000 (got 0)'],
  [['bench', TCP, '--depth', '10001'], '--depth: must be from 1 to 10000 (got 10001)'],
  [['bench', TCP, '--threads', '257'], '--threads: must be from 1 to 256 (got 257)'],
  [['bench', TCP, '--rate', '20M'], '--rate: must be from 0 to 10M (got 20M)'],
  [['echo', '--workers', '0'], '--workers: must be from 1 to 256 (got 0)'],
  [['echo', '--max-connections', '0'], '--max-connections: must be from 1 to 1000000 (got 0)'],
  [
    ['serve', 'echo', '--max-per-ip', '99999999999999999999'],
    '--max-per-ip: must be from 1 to 1000000 (got 99999999999999999999)',
  ],
  [['chat', 'serve', '--max-clients', '1000001'], '--max-clients: must be from 1 to 1000000 (got 1000001)'],
  [['chat', 'serve', '--flood-rate', '1000001'], '--flood-rate: must be from 0 to 1000000 (got 1000001)'],
  [['chat', 'serve', '--flood-burst', '0'], '--flood-burst: must be from 1 to 1000000 (got 0)'],
  [['chat', 'serve', '--web', '70000'], '--web: must be from 0 to 65535 (got 70000)'],
  [['send', UDP, 'x', '--retries', '101'], '--retries: must be from 0 to 100 (got 101)'],
  [['send', UDP, 'x', '--multicast-ttl', '256'], '--multicast-ttl: must be from 0 to 255 (got 256)'],
  [['ping', '127.0.0.1', '--count', '0'], '--count: must be from 1 to 1000000000 (got 0)'],
  [['ping', '127.0.0.1', '--ttl', '256'], '--ttl: must be from 1 to 255 (got 256)'],
  [['traceroute', '127.0.0.1', '--max-hops', '256'], '--max-hops: must be from 1 to 255 (got 256)'],
  [['traceroute', '127.0.0.1', '--first-hop', '31'], '--first-hop: must be from 1 to 30 (got 31)'],
  [['traceroute', '127.0.0.1', '--queries', '11'], '--queries: must be from 1 to 10 (got 11)'],
];

const commands: Record<string, () => Command> = {
  bench: benchCommand,
  chat: chatCommand,
  connect: connectCommand,
  echo: echoCommand,
  listen: listenCommand,
  ping: pingCommand,
  send: sendCommand,
  serve: serveCommand,
  traceroute: tracerouteCommand,
};

/**
 * parseFlags reads the flags of `sockkit ARGS` as the CLI does, through the command's own option
 * parsers, without running the command: a flag that wrongly accepted its value starts nothing.
 */
function parseFlags(args: readonly string[]): void {
  const [name, ...rest] = args;
  let command = (commands[name as string] as () => Command)();
  for (let sub = command.commands.find((c) => c.name() === rest[0]); sub; ) {
    command = sub;
    rest.shift();
    sub = command.commands.find((c) => c.name() === rest[0]);
  }
  command.parseOptions(rest);
}

/**
 * READ_WHEN_RUN are the flags a command reads when it runs, not in its option parser (ping's and
 * traceroute's numbers, `chat serve --web`): their cases run the real CLI. So do a few of the
 * others, for the whole contract: exit 2, the one line, no stack trace (the rest share that path).
 */
const READ_WHEN_RUN = new Set([
  'ping --count',
  'ping --size',
  'ping --ttl',
  'traceroute --max-hops',
  'traceroute --first-hop',
  'traceroute --queries',
  'traceroute --size',
  'chat --web',
]);
// In those cases the flag is the third word: `ping HOST --flag`, `chat serve --flag`.
const inProcess = (args: readonly string[]): boolean => !READ_WHEN_RUN.has(`${args[0]} ${args[2]}`);
const PROCESS_CASES = new Set([
  'echo --grace 600h',
  `send ${TCP} x --timeout 600h`,
  'chat serve --max-line 99999999999999999999',
  `bench ${TCP} -c 0`,
]);

describe('flag ranges', () => {
  for (const [args, message] of cases) {
    if (!inProcess(args)) continue;
    test(`\`${args.join(' ')}\` is refused by its option parser, naming the range`, () => {
      assert.throws(
        () => parseFlags(args),
        (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE' && e.message === message,
      );
    });
  }

  for (const [args, message] of cases) {
    if (inProcess(args) && !PROCESS_CASES.has(args.join(' '))) continue;
    test(`\`sockkit ${args.join(' ')}\` is a usage error: exit 2, one line naming the range`, {
      timeout: 9000,
    }, async () => {
      const result = await runCli(args, { timeout: 8000 });
      assert.equal(result.stderr, `sockkit: ${message}\n`, 'one line, no stack trace');
      assert.equal(result.code, 2);
    });
  }

  test('the longest duration allowed waits as long as it says: `send --timeout 596h` to a closed port is refused, not timed out', {
    timeout: 9000,
  }, async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const result = await runCli(['send', `tcp://127.0.0.1:${port}`, 'x', '--timeout', '596h']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `sockkit: connect tcp://127.0.0.1:${port}: connection refused (is a server listening there?)\n`,
    );
  });
});
