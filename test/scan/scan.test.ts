import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { type PortResult, scan } from '../../src/scan/scan.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** closedPort returns a port nobody listens on (one just released by a listener). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listening(server);
  server.close();
  await once(server, 'close');
  return port;
}

async function collect(iterable: AsyncIterable<PortResult>): Promise<PortResult[]> {
  const results: PortResult[] = [];
  for await (const result of iterable) results.push(result);
  return results;
}

test('a TCP scan tells open ports from refused ones, in port order', { timeout: 5000 }, async (t) => {
  const servers = [createServer((s) => s.destroy()), createServer((s) => s.destroy())];
  t.after(() => {
    for (const server of servers) server.close();
  });
  const open = await Promise.all(servers.map(listening));
  const closed = await closedPort();
  const ports = [...open, closed].sort((a, b) => a - b);
  const run = await scan('127.0.0.1', ports, { timeout: 2000, concurrency: 2 });
  const results = await collect(run);
  assert.deepEqual(
    results.map((r) => [r.port, r.state, r.reason]),
    ports.map((port) => (port === closed ? [port, 'closed', 'refused'] : [port, 'open', 'connected'])),
  );
  assert.ok(results.every((r) => r.protocol === 'tcp' && typeof r.rtt === 'number'));
});

test('a scan of many ports with low concurrency finishes and leaves no socket open', {
  timeout: 8000,
}, async (t) => {
  const server = createServer((s) => s.destroy());
  t.after(() => server.close());
  const open = await listening(server);
  const base = await closedPort();
  const ports = [open, ...Array.from({ length: 200 }, (_, i) => ((base + i) % 65535) + 1)]
    .filter((p, i, all) => all.indexOf(p) === i)
    .sort((a, b) => a - b);
  const results = await collect(await scan('127.0.0.1', ports, { concurrency: 7, timeout: 2000 }));
  assert.equal(results.length, ports.length);
  assert.equal(results.find((r) => r.port === open)?.state, 'open');
  // Every connection was reset or refused: nothing of ours is left connected to the server.
  const connections = await new Promise<number>((resolve, reject) =>
    server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
  assert.equal(connections, 0);
});

test('aborting a scan ends the iteration early without an error', { timeout: 5000 }, async () => {
  const base = await closedPort();
  const controller = new AbortController();
  const ports = Array.from({ length: 500 }, (_, i) => ((base + i) % 65535) + 1).sort((a, b) => a - b);
  const run = await scan('127.0.0.1', [...new Set(ports)], { concurrency: 1, signal: controller.signal });
  let seen = 0;
  for await (const _ of run) {
    seen += 1;
    if (seen === 3) controller.abort();
  }
  assert.ok(seen >= 3 && seen < 10, `saw ${seen} results`);
});

test('a UDP scan reads a reply as open, a port unreachable as closed and silence as open|filtered', {
  timeout: 5000,
}, async (t) => {
  const echo = createSocket('udp4', (msg, peer) => echo.send(msg, peer.port, peer.address));
  const silent = createSocket('udp4');
  t.after(() => {
    echo.close();
    silent.close();
  });
  for (const socket of [echo, silent]) {
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
  }
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  const closed = probe.address().port;
  probe.close();
  const ports = [echo.address().port, silent.address().port, closed];
  const run = await scan('127.0.0.1', ports, { protocol: 'udp', timeout: 300, retries: 1 });
  const results = new Map((await collect(run)).map((r) => [r.port, [r.state, r.reason]]));
  assert.deepEqual(results.get(ports[0] as number), ['open', 'reply']);
  assert.deepEqual(results.get(ports[1] as number), ['open|filtered', 'no reply']);
  assert.deepEqual(results.get(ports[2] as number), ['closed', 'port unreachable']);
});

test('--tls names the certificate that answers and says whether it would be trusted', {
  timeout: 8000,
}, async (t) => {
  const certificate = await selfSignedCertificate(['scan.test', '127.0.0.1']);
  const server = createTlsServer({ cert: certificate.cert, key: certificate.key }, (s) => s.end());
  const plain = createServer((s) => s.end('SSH-2.0-not-tls\r\n'));
  t.after(() => {
    server.close();
    plain.close();
  });
  const tlsPort = await listening(server);
  const plainPort = await listening(plain);
  const untrusted = await collect(
    await scan('127.0.0.1', [tlsPort, plainPort], { tls: true, timeout: 3000 }),
  );
  const byPort = new Map(untrusted.map((r) => [r.port, r]));
  const checked = byPort.get(tlsPort)?.tls;
  assert.equal(checked?.handshake, true);
  assert.equal(checked?.subject, 'scan.test');
  assert.deepEqual(checked?.names, ['scan.test', '127.0.0.1']);
  assert.equal(checked?.verified, false);
  assert.match(checked?.reason ?? '', /self-signed certificate/);
  const refused = byPort.get(plainPort)?.tls;
  assert.equal(refused?.handshake, false);
  assert.match(refused?.reason ?? '', /does not speak TLS|closed the connection/);

  const trusted = await collect(
    await scan('127.0.0.1', [tlsPort], { tls: { ca: certificate.cert }, timeout: 3000 }),
  );
  assert.deepEqual([trusted[0]?.tls?.verified, trusted[0]?.tls?.reason], [true, undefined]);
  const wrongName = await collect(
    await scan('127.0.0.1', [tlsPort], {
      tls: { ca: certificate.cert, servername: 'other.test' },
      timeout: 3000,
    }),
  );
  assert.equal(wrongName[0]?.tls?.verified, false);
  assert.match(wrongName[0]?.tls?.reason ?? '', /wrong host/);
});

test('a name that does not resolve rejects with ERR_HOST_NOT_FOUND; bad options throw RangeError', async () => {
  await assert.rejects(scan('no-such-host.invalid', [80]), { code: 'ERR_HOST_NOT_FOUND' });
  await assert.rejects(scan('127.0.0.1', [0]), RangeError);
  await assert.rejects(scan('127.0.0.1', [80], { concurrency: 0 }), /concurrency must be a whole number/);
  await assert.rejects(scan('127.0.0.1', [80], { protocol: 'udp', tls: true }), RangeError);
});
