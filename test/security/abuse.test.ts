/**
 * Abuse the server survives. Each case runs the real CLI server, attacks it on loopback (bounded
 * in count and in time), and then checks: a new client is served correctly, a bystander's bytes
 * came back unaltered, and the server's descriptors (/proc/PID/fd) and memory (VmRSS in
 * /proc/PID/status) are back near where they started. Figures are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dial } from '../../src/stream/dial.js';
import { hostPort, type Running, runCli, startCli } from '../helpers.js';

const MiB = 1024 * 1024;

/** Usage is a process's descriptor count and resident memory. */
interface Usage {
  fds: number;
  rssKiB: number;
}

function usage(pid: number): Usage {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { fds, rssKiB: Number(rss?.[1]) };
}

/**
 * settledUsage waits (bounded, 5 s) until the server's descriptor count is back to at most
 * `target`; another process's descriptors cannot be waited on as an event, so this polls /proc.
 */
async function settledUsage(pid: number, target: number): Promise<Usage> {
  const deadline = Date.now() + 5000;
  let now = usage(pid);
  while (now.fds > target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    now = usage(pid);
  }
  return now;
}

/** served checks that a fresh client gets `size` random bytes echoed back exactly. */
async function echoedIntact(url: string, size = 256 * 1024): Promise<boolean> {
  const conn = await dial(parseAddress(url), { timeout: 3000, tls: { insecure: true } });
  const payload = randomBytes(size);
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of conn) chunks.push(chunk);
  })();
  for (let at = 0; at < size; at += 16 * 1024) await conn.send(payload.subarray(at, at + 16 * 1024));
  await conn.closeWrite();
  await reading;
  conn.close();
  return Buffer.concat(chunks).equals(payload);
}

/** raw opens a plain TCP connection to a tcp:// or tls:// URL's port, reading and dropping what comes; it never throws. */
function raw(url: string): Socket {
  const address = parseAddress(url);
  assert.ok(address.scheme !== 'unix');
  const socket = connect({ host: address.host, port: address.port });
  socket.on('error', () => {});
  // Drain whatever the server sends (a TLS alert, say): a socket with unread data never sees
  // the server's FIN as an end, and would stay open however promptly the server closed.
  socket.resume();
  return socket;
}

/** report prints the figures of one abuse case as a test diagnostic, and returns them. */
function report(t: TestContext, what: string, before: Usage, after: Usage, extra: string): void {
  t.diagnostic(
    `${what}: ${extra}; fds ${before.fds} -> ${after.fds}; ` +
      `RSS ${(before.rssKiB / 1024).toFixed(1)} MiB -> ${(after.rssKiB / 1024).toFixed(1)} MiB`,
  );
}

function assertNoLeak(before: Usage, after: Usage): void {
  assert.ok(after.fds <= before.fds + 2, `descriptors: ${before.fds} before, ${after.fds} after`);
  // Node's heap grows and shrinks lazily; a leak per connection would show as far more than this.
  assert.ok(
    after.rssKiB < before.rssKiB + 48 * 1024,
    `RSS: ${before.rssKiB} kB before, ${after.rssKiB} kB after`,
  );
}

async function withServer(
  args: string[],
  body: (server: Running, url: string, pid: number) => Promise<void>,
): Promise<string> {
  const server = await startCli(args);
  try {
    await body(server, server.urls[0] as string, server.child.pid as number);
  } finally {
    await server.stop();
  }
  return server.stderr();
}

describe('abuse the server survives', { timeout: 60_000 }, () => {
  test('garbage and plaintext at a TLS port: each is dropped, TLS clients are still served', async (t) => {
    const stderr = await withServer(
      ['echo', 'tls://127.0.0.1:0', '--self-signed', '--handshake-timeout', '1s'],
      async (_server, url, pid) => {
        await echoedIntact(url, 1024); // warm up: the first TLS handshake allocates lasting state
        const before = usage(pid);
        const started = Date.now();
        const bystander = echoedIntact(url, 1024 * 1024);
        const attackers = 300;
        await Promise.all(
          Array.from({ length: attackers }, (_, i) => {
            const socket = raw(url);
            socket.once('connect', () =>
              socket.write(i % 2 === 0 ? randomBytes(2048) : 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
            );
            return new Promise((resolve) => socket.once('close', resolve));
          }),
        );
        assert.ok(await bystander, 'the bystander got its bytes back unaltered');
        assert.ok(await echoedIntact(url), 'a new client is served');
        const after = await settledUsage(pid, before.fds);
        report(
          t,
          'garbage at TLS',
          before,
          after,
          `${attackers} connections in ${((Date.now() - started) / 1000).toFixed(2)} s`,
        );
        assertNoLeak(before, after);
      },
    );
    assert.match(
      stderr,
      /limit handshake-failed 127\.0\.0\.1:\d+: TLS handshake failed: the client does not speak TLS/,
    );
    assert.match(stderr, /failed TLS handshakes/);
  });

  test('2,000 clients that connect and reset at once leave no trace', async (t) => {
    await withServer(['echo', 'tcp://127.0.0.1:0'], async (_server, url, pid) => {
      await echoedIntact(url, 1024);
      const before = usage(pid);
      const started = Date.now();
      const bystander = echoedIntact(url, 1024 * 1024);
      const total = 2000;
      const deadline = started + 8000;
      let done = 0;
      // 100 at a time, so the test's own descriptors stay few; stop early at the deadline.
      const worker = async (): Promise<void> => {
        while (done < total && Date.now() < deadline) {
          done += 1;
          await new Promise<void>((resolve) => {
            const socket = raw(url);
            socket.once('connect', () => socket.resetAndDestroy());
            socket.once('close', () => resolve());
          });
        }
      };
      await Promise.all(Array.from({ length: 100 }, worker));
      assert.equal(done, total, 'every reset client ran within the time bound');
      assert.ok(await bystander, 'the bystander got its bytes back unaltered');
      assert.ok(await echoedIntact(url), 'a new client is served');
      const after = await settledUsage(pid, before.fds);
      report(
        t,
        'connect-then-reset',
        before,
        after,
        `${total} connections in ${((Date.now() - started) / 1000).toFixed(2)} s`,
      );
      assertNoLeak(before, after);
    });
  });

  test('stalled TLS handshakes are dropped at --handshake-timeout while others are served', async (t) => {
    const stderr = await withServer(
      ['echo', 'tls://127.0.0.1:0', '--self-signed', '--handshake-timeout', '500ms'],
      async (_server, url, pid) => {
        await echoedIntact(url, 1024);
        const before = usage(pid);
        const started = Date.now();
        const stallers = 200;
        const closed = Array.from({ length: stallers }, () => {
          const socket = raw(url);
          // The first bytes of a TLS record header, then nothing more, ever.
          socket.once('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01])));
          return new Promise((resolve) => socket.once('close', resolve));
        });
        // While they stall, a real client is served at once.
        assert.ok(await echoedIntact(url, 1024 * 1024), 'a client is served while others stall');
        const during = usage(pid);
        await Promise.all(closed); // the server drops every staller by itself
        const seconds = (Date.now() - started) / 1000;
        assert.ok(await echoedIntact(url), 'a new client is served');
        const after = await settledUsage(pid, before.fds);
        report(
          t,
          'stalled TLS handshakes',
          before,
          after,
          `${stallers} connections, all dropped after ${seconds.toFixed(2)} s; fds during ${during.fds}`,
        );
        assertNoLeak(before, after);
      },
    );
    assert.match(stderr, /timed out 200 \(handshake 200\)/);
  });

  test('TLS clients that close their side mid-handshake are released at once, not at --handshake-timeout', {
    timeout: 10_000,
  }, async (t) => {
    const stderr = await withServer(
      ['echo', 'tls://127.0.0.1:0', '--self-signed', '--handshake-timeout', '30s'],
      async (_server, url, pid) => {
        await echoedIntact(url, 1024);
        const before = usage(pid);
        const started = Date.now();
        const peers = 100;
        // Half send nothing, half the first bytes of a TLS record; all then send their FIN. A
        // peer's socket closes only when the server closes its side: that is the release.
        const released = Array.from({ length: peers }, (_, i) => {
          const socket = raw(url);
          socket.once('connect', () => {
            if (i % 2 === 1) socket.write(Buffer.from([0x16, 0x03, 0x01]));
            socket.end();
          });
          return new Promise((resolve) => socket.once('close', resolve));
        });
        await Promise.all(released);
        const seconds = (Date.now() - started) / 1000;
        const after = await settledUsage(pid, before.fds);
        report(
          t,
          'FIN mid-handshake',
          before,
          after,
          `${peers} peers, all released after ${seconds.toFixed(2)} s`,
        );
        assert.ok(seconds < 10, `released after ${seconds} s, against a 30 s handshake timeout`);
        assertNoLeak(before, after);
        // Half-close still works once a handshake is done: the echo answers after the client's FIN.
        assert.ok(await echoedIntact(url), 'a new client is served, half-close and all');
      },
    );
    assert.match(
      stderr,
      /limit handshake-failed 127\.0\.0\.1:\d+: TLS handshake failed: the client closed before finishing it/,
    );
    assert.match(stderr, /timed out 0, 100 failed TLS handshakes/);
  });

  test('clients that send and never read cannot grow the server, and others are served', async (t) => {
    await withServer(['echo', 'tcp://127.0.0.1:0'], async (_server, url, pid) => {
      await echoedIntact(url, 1024);
      const before = usage(pid);
      const started = Date.now();
      const clients = 20;
      const perClient = 64 * MiB;
      const sockets: Socket[] = [];
      // Each tries to write 64 MiB, more than the kernel buffers hold, and never reads: the server
      // must stop reading from it (backpressure) rather than buffer the echo it cannot send.
      const stuck = Array.from({ length: clients }, () => {
        const socket = raw(url);
        sockets.push(socket);
        socket.pause();
        return new Promise<number>((resolve) => {
          socket.once('connect', () => {
            const chunk = Buffer.alloc(64 * 1024, 0x61);
            let written = 0;
            const pump = (): void => {
              while (written < perClient) {
                written += chunk.length;
                if (!socket.write(chunk)) return void socket.once('drain', pump);
              }
            };
            pump();
            // Settled once the kernel buffers both ways are full: nothing drains for a while.
            const check = setInterval(() => {
              if (socket.writableLength > 0 || written >= perClient) {
                clearInterval(check);
                resolve(written - socket.writableLength);
              }
            }, 100);
          });
        });
      });
      const accepted = (await Promise.all(stuck)).reduce((a, b) => a + b, 0);
      const during = usage(pid);
      assert.ok(await echoedIntact(url, 1024 * 1024), 'a client is served while 20 others never read');
      assert.ok(
        during.rssKiB < before.rssKiB + 96 * 1024,
        `RSS grew from ${before.rssKiB} kB to ${during.rssKiB} kB while clients sent without reading`,
      );
      for (const socket of sockets) socket.destroy();
      const after = await settledUsage(pid, before.fds);
      report(
        t,
        'send and never read',
        before,
        after,
        `${clients} clients got ${(accepted / MiB).toFixed(1)} MiB out before being blocked, in ${((Date.now() - started) / 1000).toFixed(2)} s; RSS during ${(during.rssKiB / 1024).toFixed(1)} MiB`,
      );
      assertNoLeak(before, after);
    });
  });

  test('running short of descriptors (ulimit -n 256) refuses the excess, never crashes, and recovers', async (t) => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0'], {
      wrapper: ['sh', '-c', 'ulimit -n 256 && exec "$@"', 'sh'],
      timeout: 8000,
    });
    try {
      const url = server.urls[0];
      const pid = server.child.pid as number;
      await echoedIntact(url as string, 1024);
      const before = usage(pid);
      const started = Date.now();
      const clients = 500;
      const sockets = Array.from({ length: clients }, () => raw(url as string));
      const outcomes = await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<'open' | 'refused'>((resolve) => {
              socket.once('close', () => resolve('refused'));
              // An admitted client stays open; write and wait for the echo to know it was served.
              socket.once('connect', () => socket.write('x'));
              socket.once('data', () => resolve('open'));
            }),
        ),
      );
      const open = outcomes.filter((o) => o === 'open').length;
      const during = usage(pid);
      assert.ok(open > 0 && open < clients, `${open} of ${clients} admitted`);
      assert.ok(during.fds <= 256, `the server holds ${during.fds} descriptors, within its limit`);
      for (const socket of sockets) socket.destroy();
      const after = await settledUsage(pid, before.fds);
      assert.ok(await echoedIntact(url as string), 'a new client is served');
      report(
        t,
        'descriptor exhaustion',
        before,
        after,
        `${clients} clients in ${((Date.now() - started) / 1000).toFixed(2)} s, ${open} admitted, ${clients - open} refused; fds during ${during.fds} (limit 256)`,
      );
      assertNoLeak(before, after);
      assert.match(
        await server.waitFor(/limit emfile [^\n]*\n/).then((m) => m[0]),
        /one more would run the process out of file descriptors/,
      );
    } finally {
      await server.stop();
    }
    // Below what loading the command takes (Node reads a module graph's files at once): one line.
    const starved = await runCli(['echo', 'tcp://127.0.0.1:0'], {
      wrapper: ['sh', '-c', 'ulimit -n 40 && exec "$@"', 'sh'],
    });
    assert.equal(starved.code, 1, starved.stderr);
    assert.equal(
      starved.stderr,
      'sockkit: echo: too few file descriptors to load the command: raise the limit (ulimit -n 1024)\n',
    );
  });

  test('a flood of UDP datagrams from many ports leaves the server answering, unaltered', async (t) => {
    await withServer(['echo', 'udp://127.0.0.1:0'], async (_server, url, pid) => {
      const { host, port } = hostPort(url);
      await udpEchoes(host, port, 5);
      const before = usage(pid);
      const started = Date.now();
      const senders = 50;
      const perSender = 400;
      const payload = randomBytes(1024);
      // 50 sockets (50 source ports), 400 datagrams of 1 KiB each, as fast as they go; bounded
      // by count and by a 5 s deadline. Nobody reads the replies.
      const sockets = Array.from({ length: senders }, () => createSocket('udp4'));
      let sent = 0;
      await Promise.all(
        sockets.map(async (socket) => {
          socket.on('error', () => {});
          await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
          for (let i = 0; i < perSender && Date.now() - started < 5000; i++) {
            await new Promise<void>((resolve) => socket.send(payload, port, host, () => resolve()));
            sent += 1;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      const during = usage(pid);
      for (const socket of sockets) socket.close();
      // Replies may be lost under a flood (that is UDP), but none may be altered, and a new
      // client is answered exactly.
      assert.ok(await udpAnswered(host, port), 'a new client gets its datagrams back exactly');
      const after = await settledUsage(pid, before.fds);
      report(
        t,
        'UDP flood',
        before,
        after,
        `${sent} datagrams of 1 KiB from ${senders} ports in ${seconds.toFixed(2)} s; RSS during ${(during.rssKiB / 1024).toFixed(1)} MiB`,
      );
      assertNoLeak(before, after);
    });
  });

  test('UDP --max-per-ip and --deny drop a flooding or denied sender, and count it', async () => {
    const stderr = await withServer(
      ['echo', 'udp://127.0.0.1:0', '--max-per-ip', '50', '--deny', '127.0.0.9'],
      async (_server, url) => {
        const { host, port } = hostPort(url);
        // The denied sender goes first, while the server's buffer is empty, so the kernel keeps it;
        // a checker's round trip afterwards proves the server has handled it.
        const denied = createSocket('udp4');
        let deniedReplies = 0;
        denied.on('message', () => {
          deniedReplies += 1;
        });
        await new Promise<void>((resolve) => denied.bind(0, '127.0.0.9', resolve));
        await new Promise<void>((r) => denied.send('let me in', port, host, () => r()));
        assert.ok(await udpAnswered(host, port, '127.0.0.3'));
        const flooder = createSocket('udp4');
        const replies: Buffer[] = [];
        flooder.on('message', (data) => replies.push(data));
        await new Promise<void>((resolve) => flooder.bind(0, '127.0.0.1', resolve));
        const started = Date.now();
        for (let i = 0; i < 500; i++)
          await new Promise<void>((r) => flooder.send(`n${i}`, port, host, () => r()));
        // A later sender is still answered (retrying what a full buffer may drop): by then every
        // earlier datagram has been handled.
        assert.ok(await udpAnswered(host, port, '127.0.0.3'));
        const windows = Math.ceil((Date.now() - started + 1) / 1000) + 1;
        assert.ok(replies.length <= 50 * windows, `${replies.length} replies to a sender capped at 50/s`);
        assert.ok(replies.length >= 1);
        assert.ok(replies.every((r) => /^n\d+$/.test(r.toString())));
        assert.equal(deniedReplies, 0);
        flooder.close();
        denied.close();
      },
    );
    assert.match(
      stderr,
      /limit max-per-ip 127\.0\.0\.1:\d+: dropped: over 50 datagrams this second from 127\.0\.0\.1/,
    );
    assert.match(stderr, /limit access 127\.0\.0\.9:\d+: dropped: 127\.0\.0\.9 is not allowed/);
    assert.match(stderr, /dropped [\d,]+ datagrams? by limit \(access 1, max-per-ip [\d,]+\)/);
  });
});

/**
 * udpAnswered tries (up to 10 rounds, bounded) until a round of 5 datagrams all come back exactly:
 * right after a flood the server's receive buffer may still be full, and UDP drops what does not
 * fit. A reply that differs from what was sent fails at once.
 */
async function udpAnswered(host: string, port: number, from = '127.0.0.1'): Promise<boolean> {
  for (let round = 0; round < 10; round++) {
    const result = await udpRound(host, port, 5, from, 1000);
    if (result === 'altered') return false;
    if (result === 'all') return true;
  }
  return false;
}

/** udpEchoes resolves true once `count` datagrams from `from` all came back exactly within 3 s. */
async function udpEchoes(host: string, port: number, count: number, from = '127.0.0.1'): Promise<boolean> {
  return (await udpRound(host, port, count, from, 3000)) === 'all';
}

/**
 * udpRound sends `count` distinct datagrams from `from` to an echo server: `all` once each came
 * back byte for byte, `lost` if some did not within `timeout` ms, `altered` on any mismatch.
 */
async function udpRound(
  host: string,
  port: number,
  count: number,
  from: string,
  timeout: number,
): Promise<'all' | 'lost' | 'altered'> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  const sent = new Map<string, Buffer>();
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('lost'), timeout);
      socket.on('message', (data) => {
        const key = data.subarray(0, 8).toString('hex');
        const expected = sent.get(key);
        if (!expected?.equals(data)) {
          clearTimeout(timer);
          return resolve('altered');
        }
        sent.delete(key);
        if (sent.size === 0) {
          clearTimeout(timer);
          resolve('all');
        }
      });
      for (let i = 0; i < count; i++) {
        const datagram = randomBytes(512);
        sent.set(datagram.subarray(0, 8).toString('hex'), datagram);
        socket.send(datagram, port, host);
      }
    });
  } finally {
    socket.close();
  }
}
