import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { request } from '../../src/datagram/request.js';
import { decodeTime } from '../../src/services/time.js';
import { runCli, startCli } from '../helpers.js';

/** readTcp reads everything a TCP server sends until it closes. */
function readTcp(url: string): Promise<Buffer> {
  const { host, port } = parseAddress(url) as InetAddress;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.end();
  });
}

test('serve time answers on TCP and UDP at once, and SIGINT ends it with a summary, exit 0', async () => {
  const server = await startCli(['serve', 'time', 'tcp://127.0.0.1:0', 'udp://[::1]:0'], { listens: 2 });
  const [tcpUrl, udpUrl] = server.urls as [string, string];
  assert.match(tcpUrl, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.match(udpUrl, /^udp:\/\/\[::1\]:\d+$/);
  const before = Math.floor(Date.now() / 1000) * 1000; // the time protocol counts whole seconds
  const overTcp = await readTcp(tcpUrl);
  const overUdp = await request(parseAddress(udpUrl), '');
  const after = Date.now();
  for (const reply of [overTcp, overUdp.data]) {
    assert.equal(reply.length, 4);
    const at = decodeTime(reply).getTime();
    assert.ok(at >= before && at <= after, `${at} is not between ${before} and ${after}`);
  }
  const result = await server.stop();
  assert.equal(result.code, 0);
  assert.match(result.stderr, /served 1 connection, 0 B in, 4 B out; 1 datagram in \(0 B\), 1 out \(4 B\)/);
});

test('serve with no URL runs the service on TCP and UDP on loopback, free ports', async () => {
  const server = await startCli(['serve', 'daytime'], { listens: 2 });
  try {
    assert.match(server.urls[0] as string, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.urls[1] as string, /^udp:\/\/127\.0\.0\.1:\d+$/);
    const { data } = await request(parseAddress(server.urls[1] as string), 'x');
    assert.match(data.toString(), /^\w+, \w+ \d+, \d{4} \d\d:\d\d:\d\d-UTC\r\n$/);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

test('echo udp:// is serve echo: every datagram comes back, on IPv4 and IPv6', async () => {
  const server = await startCli(['echo', 'udp://127.0.0.1:0', 'udp://[::1]:0', '--trace'], { listens: 2 });
  for (const url of server.urls) {
    const reply = await request(parseAddress(url), `to ${url}`);
    assert.equal(reply.data.toString(), `to ${url}`);
  }
  const result = await server.stop();
  assert.equal(result.code, 0);
  assert.match(result.stderr, /\[server\] #\d+ socket udp4 created/);
  assert.match(result.stderr, /\[server\] #\d+ recv \d+ bytes from \[::1\]:\d+/);
  assert.match(result.stderr, /\[server\] #\d+ sent \d+ bytes to 127\.0\.0\.1:\d+/);
  assert.match(result.stderr, /served 2 datagrams in/);
});

test('serve chargen over UDP answers with the pattern', async () => {
  const server = await startCli(['serve', 'chargen', 'udp://127.0.0.1:0']);
  try {
    for (let i = 0; i < 5; i += 1) {
      const { data } = await request(parseAddress(server.urls[0] as string), '');
      assert.ok(data.length <= 512);
      assert.match(data.toString('latin1'), /^([ -~]{72}\r\n)*[ -~]*\r?$/);
    }
  } finally {
    await server.stop();
  }
});

test('an unknown service is a usage error, exit 2, one line', async () => {
  const result = await runCli(['serve', 'qotd', 'udp://127.0.0.1:0']);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'sockkit: serve: unknown service "qotd" (one of: echo, discard, chargen, daytime, time)\n',
  );
});

test('a datagram flag on a stream address is a usage error naming the flag', async () => {
  const result = await runCli(['serve', 'echo', 'tcp://127.0.0.1:0', '--join', '239.1.2.3']);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    'sockkit: serve: --join applies to udp:// addresses only, not tcp://127.0.0.1:0\n',
  );
});

test('a UDP port already taken is exit 1 with one line', async () => {
  const server = await startCli(['serve', 'discard', 'udp://127.0.0.1:0']);
  try {
    const result = await runCli(['serve', 'discard', server.urls[0] as string]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^sockkit: listen udp:\/\/127\.0\.0\.1:\d+: address already in use \(.*\)\n$/,
    );
  } finally {
    await server.stop();
  }
});

test('a second listener that cannot bind leaves no listening line announced', async () => {
  const taken = await startCli(['echo', 'tcp://127.0.0.1:0']);
  const result = await runCli(['echo', 'tcp://127.0.0.1:0', taken.urls[0] as string]);
  await taken.stop('SIGTERM');
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /listening on/, result.stderr);
  assert.match(result.stderr, /^sockkit: listen tcp:\/\/127\.0\.0\.1:\d+: address already in use/m);
});

test('a UDP-only server shuts down without announcing a grace period it does not have', async () => {
  const server = await startCli(['echo', 'udp://127.0.0.1:0']);
  const result = await server.stop('SIGINT');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^sockkit: shutting down \(Ctrl-C again to force\)$/m);
  assert.doesNotMatch(result.stderr, /grace/);
});

test('echo and serve echo take the same flags', async () => {
  const echoHelp = await runCli(['echo', '--help']);
  const serveHelp = await runCli(['serve', '--help']);
  const flags = (text: string): string[] =>
    [...text.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1] as string).sort();
  assert.deepEqual(flags(echoHelp.stdout.toString()), flags(serveHelp.stdout.toString()));
  const server = await startCli(['echo', 'udp://127.0.0.1:0', '--receive-buffer', '1MiB']);
  const result = await server.stop('SIGTERM');
  assert.equal(result.code, 0, result.stderr);
});
