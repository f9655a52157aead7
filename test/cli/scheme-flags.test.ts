import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers.js';

// Port 9 (discard) on loopback: nothing is ever sent, since each command must stop at its flags.
const refused: [string[], string][] = [
  [
    ['send', 'udp://127.0.0.1:9', 'x', '--ca', 'missing.pem'],
    '--ca applies to tls:// or wss:// addresses only',
  ],
  [['send', 'tcp://127.0.0.1:9', 'x', '--retries', '3'], '--retries applies to udp:// addresses only'],
  [['send', 'tcp://127.0.0.1:9', 'x', '--broadcast'], '--broadcast applies to udp:// addresses only'],
  [['connect', 'tcp://127.0.0.1:9', '--lines'], '--lines applies to udp:// addresses only'],
  [['connect', 'tcp://127.0.0.1:9', '--linger', '2s'], '--linger applies to udp:// addresses only'],
  [['listen', 'tcp://127.0.0.1:0', '--join', '233.252.0.1'], '--join applies to udp:// addresses only'],
  [['bench', 'tcp://127.0.0.1:9', '--loss-timeout', '1s'], '--loss-timeout applies to udp:// addresses only'],
  [['echo', 'tcp://127.0.0.1:0', '--no-multicast-loopback'], 'applies to udp:// addresses only'],
  [['listen', 'tcp://127.0.0.1:0', '--broadcast', '--multicast-ttl', '2'], '--broadcast applies to udp://'],
  [['send', 'udp://127.0.0.1:9', 'x', '--keepalive'], '--keepalive applies to tcp:// or tls://'],
  [['send', 'tcp://127.0.0.1:9', 'x', '--ttl', '3'], '--ttl applies to udp:// addresses only'],
  [['send', 'unix:/tmp/sockkit-none.sock', 'x', '--no-nodelay'], '--no-nodelay applies to tcp:// or tls://'],
  [
    ['send', 'unix:/tmp/sockkit-none.sock', 'x', '--source', '127.0.0.1'],
    '--source applies to tcp://, tls:// or udp://',
  ],
  [['send', 'unix:/tmp/sockkit-none.sock', 'x', '-4'], '-4 applies to tcp://, tls:// or udp://'],
  [
    ['send', 'udp://127.0.0.1:9', 'x', '--connect-timeout', '1s'],
    '--connect-timeout applies to tcp://, tls:// or unix:',
  ],
  [['connect', 'udp://127.0.0.1:9', '-q', '1s'], '-q applies to tcp://, tls:// or unix:'],
  [['echo', 'udp://127.0.0.1:0', '--backlog', '8'], '--backlog applies to tcp://, tls:// or unix:'],
  [['echo', 'unix:/tmp/sockkit-none.sock', '--ipv6-only'], '--ipv6-only applies to tcp://, tls:// or udp://'],
  [['connect', 'tcp://127.0.0.1:9', '--reconnect'], '--reconnect applies to ws:// or wss://'],
  [['send', 'tcp://127.0.0.1:9', 'x', '-H', 'A: b'], '-H applies to ws:// or wss://'],
  [
    ['listen', 'tcp://127.0.0.1:0', '--allow-origin', 'https://a.example'],
    '--allow-origin applies to ws:// or wss://',
  ],
  [
    ['bench', 'tcp://127.0.0.1:9', '--threads', '2'],
    '--threads must be at most the number of connections (1)',
  ],
  [
    ['bench', 'tcp://127.0.0.1:9', '--threads', '64', '-c', '1'],
    '--threads must be at most the number of connections',
  ],
];

for (const [args, message] of refused) {
  test(`${args.join(' ')} is refused: the flag does not apply`, async () => {
    const result = await runCli(args);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.split('\n').length, 2, result.stderr);
    assert.ok(result.stderr.startsWith(`sockkit: ${args[0]}: `), result.stderr);
    assert.ok(result.stderr.includes(message), result.stderr);
    assert.ok(result.stderr.includes(args[1] as string) || args[0] === 'bench', result.stderr);
  });
}

test('a flag for one of several addresses applies: serve with tcp:// and udp:// takes --broadcast', async () => {
  const result = await runCli(['serve', 'nosuch', 'tcp://127.0.0.1:0', 'udp://127.0.0.1:0', '--broadcast']);
  // The flag passed; the unknown service is what stops it.
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown service "nosuch"/);
});

test('an address given as a flag value counts: chat serve tcp:// --web tls:// takes --self-signed', async () => {
  const server = await startCli(
    ['chat', 'serve', 'tcp://127.0.0.1:0', '--web', 'tls://127.0.0.1:0', '--self-signed'],
    { listens: 2 },
  );
  const result = await server.stop();
  assert.equal(result.code, 0, result.stderr);
});
