import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { runCli } from '../helpers.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

test('traceroute --tcp -p PORT names the hop and says the port is open', {
  skip: needsRoot,
  timeout: 8000,
}, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const result = await runCli(['traceroute', '--tcp', '-p', String(port), '127.0.0.1', '-q', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout.toString().replace(/\d+\.\d{3} ms/g, 'T ms'),
    `traceroute to 127.0.0.1 (127.0.0.1) port ${port} (tcp), 30 hops max, 44 byte packets\n` +
      ' 1  127.0.0.1  T ms\n' +
      `port ${port} on 127.0.0.1 is open (it answered SYN-ACK)\n`,
  );
});

test('traceroute --tcp and --udp usage errors exit 2 with one line', { timeout: 8000 }, async () => {
  const cases = [
    [
      ['traceroute', '127.0.0.1', '-p', '80'],
      /^sockkit: traceroute: --port needs --tcp or --udp \(ICMP has no ports\)\n$/,
    ],
    [['traceroute', '127.0.0.1', '-T', '-U'], /^sockkit: traceroute: --tcp and --udp exclude each other\n$/],
    [
      ['traceroute', '127.0.0.1', '-T', '--hexdump'],
      /^sockkit: traceroute: --hexdump shows ICMP probes only/,
    ],
    [
      ['traceroute', '127.0.0.1', '-U', '-p', '65536'],
      /^sockkit: --port: must be from 1 to 65535 \(got 65536\)\n$/,
    ],
  ] as const;
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, result] of results.entries()) {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, cases[i]?.[1] as RegExp);
  }
});
