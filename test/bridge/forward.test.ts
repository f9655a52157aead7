/**
 * forward, read as a specification: byte-exact both ways at once over tcp, tls and unix, many
 * clients, half-close each way, targets down, round-robin, the pair hook, and the summary.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join as joinPath } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { formatAddress, parseAddress, type SocketAddress } from '../../src/address.js';
import { type Endpoint, parseEndpoint } from '../../src/bridge/endpoint.js';
import { type ForwardEvent, type ForwardOptions, forward } from '../../src/bridge/forward.js';
import { onReadAccess } from '../../src/node-internals.js';
import { parseProxyUrl } from '../../src/proxy/proxy-url.js';
import { type Certificate, selfSignedCertificate } from '../../src/security/certificate.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { MiB } from '../../src/units.js';
import { tempDir } from '../helpers.js';
import { busyTarget, deadPort, echoTarget, exchange, readAll, sendAll, sha256 } from './peers.js';

const dir = tempDir();
after(() => dir.remove());
let cert: Certificate;
before(async () => {
  cert = await selfSignedCertificate(['127.0.0.1']);
});

/** start runs a forward from `listenUrl` to `targets`; `stop` aborts it and resolves with its summary. */
async function start(
  listenUrl: string,
  targets: (string | SocketAddress)[],
  options: Partial<ForwardOptions> = {},
) {
  const controller = new AbortController();
  const endpoints: Endpoint[] = targets.map((t) =>
    typeof t === 'string' ? parseEndpoint(t) : { kind: 'socket', address: t },
  );
  const forwarder = await forward(parseAddress(listenUrl), endpoints, {
    signal: controller.signal,
    ...options,
  });
  return {
    address: forwarder.addresses[0] as SocketAddress,
    stop: () => {
      controller.abort();
      return forwarder.done;
    },
  };
}

describe('forward: byte-exact, both directions at once', () => {
  const size = 16 * MiB;
  const cases = [
    { name: 'tcp to tcp', listen: 'tcp://127.0.0.1:0', target: 'tcp://127.0.0.1:0' },
    { name: 'tls to tcp (terminates TLS)', listen: 'tls://127.0.0.1:0', target: 'tcp://127.0.0.1:0' },
    { name: 'tcp to tls (originates TLS)', listen: 'tcp://127.0.0.1:0', target: 'tls://127.0.0.1:0' },
    {
      name: 'unix to unix',
      listen: `unix:${joinPath(dir.path, 'in.sock')}`,
      target: `unix:${joinPath(dir.path, 'out.sock')}`,
    },
  ];
  for (const c of cases) {
    test(`${c.name}: 16 MiB each way arrive intact while both flow`, { timeout: 60_000 }, async () => {
      const tlsServer = { cert: cert.cert, key: cert.key };
      const target = await busyTarget(c.target, size, c.target.startsWith('tls') ? { tls: tlsServer } : {});
      const fwd = await start(c.listen, [target.listener.address], {
        tls: c.listen.startsWith('tls') ? tlsServer : undefined,
        targetTls: { ca: cert.cert },
      });
      const client = await dial(fwd.address, { tls: { ca: cert.cert } });
      const upload = randomBytes(size);
      const received = await exchange(client, upload);
      // The target records what it read once it has read its EOF, which can come after the
      // client has its last byte: wait for that record, not for the client alone.
      await target.receivedFrom(1);
      const summary = await fwd.stop();
      await target.listener.close();
      assert.equal(received.length, size);
      assert.equal(received.digest, sha256(target.data), 'what the target sent reached the client intact');
      assert.deepEqual(target.received, [{ digest: sha256(upload), length: size }], 'and the reverse');
      assert.equal(summary.clients, 1);
      assert.equal(summary.bytesToTargets, size);
      assert.equal(summary.bytesToClients, size);
    });
  }
});

describe('forward: connections', () => {
  test('200 concurrent clients each get their own bytes back', { timeout: 30_000 }, async () => {
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await start('tcp://127.0.0.1:0', [echo.address]);
    const clients = Array.from({ length: 200 }, () => randomBytes(4096));
    const conns = await Promise.all(clients.map(() => dial(fwd.address)));
    const results = await Promise.all(conns.map((conn, i) => exchange(conn, clients[i] as Buffer)));
    for (const [i, result] of results.entries())
      assert.equal(result.digest, sha256(clients[i] as Buffer), `client ${i}`);
    const summary = await fwd.stop();
    await echo.close();
    assert.equal(summary.clients, 200);
    assert.equal(echo.served, 200);
    assert.equal(summary.bytesToTargets, 200 * 4096);
  });

  test('many clients whose targets are all being reached at once draw no warning from Node', {
    timeout: 10_000,
  }, async () => {
    // Each target being reached listens on the abort signal: past ten at once, Node printed
    // "MaxListenersExceededWarning: Possible EventTarget memory leak detected" on stderr. The
    // targets are behind a proxy that takes connections and never answers, so all stay pending.
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    const held: Socket[] = [];
    const proxy = createServer((socket) => {
      held.push(socket);
      if (held.length === 30) proxy.emit('all-held');
    }).listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const allHeld = once(proxy, 'all-held');
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await start('tcp://127.0.0.1:0', [echo.address], {
      targetProxy: [parseProxyUrl(`socks5://127.0.0.1:${(proxy.address() as { port: number }).port}`)],
    });
    const conns = await Promise.all(Array.from({ length: 30 }, () => dial(fwd.address)));
    await allHeld;
    // A warning is emitted on the tick after its cause: let that tick pass.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    for (const conn of conns) conn.close();
    for (const socket of held) socket.destroy();
    await fwd.stop();
    await echo.close();
    proxy.close();
    assert.deepEqual(warnings, []);
  });

  test('the client half-closes: the target reads EOF and its answer still comes back', {
    timeout: 10_000,
  }, async () => {
    // A target that answers only once it has read everything: it counts the bytes.
    const target = createServer({ allowHalfOpen: true }, (socket) => {
      let count = 0;
      socket.on('data', (chunk: Buffer) => {
        count += chunk.length;
      });
      socket.on('end', () => socket.end(`${count} bytes\n`));
    }).listen(0, '127.0.0.1');
    await once(target, 'listening');
    const fwd = await start('tcp://127.0.0.1:0', [
      `tcp://127.0.0.1:${(target.address() as { port: number }).port}`,
    ]);
    const client = await dial(fwd.address);
    await sendAll(client, Buffer.alloc(100_000, 1));
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString(), '100000 bytes\n');
    client.close();
    await fwd.stop();
    target.close();
  });

  test('a target that reads late gets every byte intact, though small writes queued up for it', {
    timeout: 20_000,
  }, async () => {
    // The target reads nothing until the client has sent all: the forward's writes to it queue
    // up, a small chunk at a time, while its reads of the client go on. A read buffer used again
    // under a queued write would change bytes already on their way.
    const received: Buffer[] = [];
    let startReading = (): void => {};
    const target = createServer((socket) => {
      socket.pause();
      startReading = () => socket.resume();
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('end', () => target.emit('read-all'));
    }).listen(0, '127.0.0.1');
    await once(target, 'listening');
    const readAllOf = once(target, 'read-all');
    let joined = (): void => {};
    const paired = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const fwd = await start(
      'tcp://127.0.0.1:0',
      [`tcp://127.0.0.1:${(target.address() as { port: number }).port}`],
      {
        onPair: () => {
          joined();
          return undefined;
        },
      },
    );
    const client = await dial(fwd.address);
    // Sent once the bridge is joined (so the forward's fast reads take every byte), one small
    // write per turn of the event loop, so the forward reads small chunks.
    await paired;
    const data = randomBytes(16 * MiB);
    for (let offset = 0; offset < data.length; offset += 1024) {
      client.write(data.subarray(offset, offset + 1024));
      await new Promise(setImmediate);
    }
    startReading();
    await client.closeWrite();
    await readAllOf;
    assert.equal(sha256(Buffer.concat(received)), sha256(data));
    client.close();
    await fwd.stop();
    target.close();
  });

  test('bytes a client sends while its target is being reached are held, and its reads stay fast', {
    timeout: 10_000,
  }, async () => {
    // A TLS target takes several turns of the event loop to reach: the client's first bytes
    // are in the forward's socket long before. Read the usual way, they would rule out the fast
    // reads (readInto) for the connection's whole life.
    const echo = await echoTarget('tls://127.0.0.1:0', { tls: { cert: cert.cert, key: cert.key } });
    let fastClient: boolean | undefined;
    const fwd = await start('tcp://127.0.0.1:0', [echo.address], {
      targetTls: { ca: cert.cert },
      onPair: (pair) => {
        const access = onReadAccess((pair.client as Conn).socket);
        fastClient = access !== undefined && access.get(access.fields.buffer) !== null;
        return undefined;
      },
    });
    const client = await dial(fwd.address);
    client.write('early bytes, ');
    const early = await new Promise<Buffer>((resolve) => client.socket.once('data', resolve));
    await sendAll(client, Buffer.from('then the rest'));
    const rest: Buffer[] = [];
    for await (const chunk of client) rest.push(chunk);
    client.close();
    await fwd.stop();
    await echo.close();
    assert.equal(Buffer.concat([early, ...rest]).toString(), 'early bytes, then the rest');
    assert.equal(fastClient, true, "the client's socket is read with readInto");
  });

  test('the target half-closes: the client reads EOF and can still send to the target', {
    timeout: 10_000,
  }, async () => {
    // A target that greets and half-closes at once, then reads until the client's EOF.
    let heard = '';
    const target = createServer({ allowHalfOpen: true }, (socket) => {
      socket.end('hello, then FIN\n');
      socket.on('data', (chunk: Buffer) => {
        heard += chunk.toString();
      });
      socket.on('end', () => target.emit('heard-all'));
    }).listen(0, '127.0.0.1');
    await once(target, 'listening');
    const heardAll = once(target, 'heard-all');
    const fwd = await start('tcp://127.0.0.1:0', [
      `tcp://127.0.0.1:${(target.address() as { port: number }).port}`,
    ]);
    const client = await dial(fwd.address);
    const greeting = await readAll(client);
    assert.equal(greeting.length, 'hello, then FIN\n'.length, 'the client read the greeting, then EOF');
    await sendAll(client, Buffer.from('still here after your FIN'));
    await heardAll;
    assert.equal(heard, 'still here after your FIN');
    client.close();
    await fwd.stop();
    target.close();
  });

  test('a target that is down: the client is closed at once, with one no-target event', {
    timeout: 10_000,
  }, async () => {
    const down = await deadPort();
    const events: ForwardEvent[] = [];
    const fwd = await start('tcp://127.0.0.1:0', [down], { onEvent: (e) => events.push(e) });
    const client = await dial(fwd.address);
    const started = Date.now();
    const got = await readAll(client);
    assert.equal(got.length, 0, 'nothing, then the end');
    assert.ok(Date.now() - started < 5000, 'closed at once, not after a timeout');
    client.close();
    const summary = await fwd.stop();
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.type, 'no-target');
    assert.match(
      event?.type === 'no-target' ? event.errors.map((e) => e.message).join() : '',
      new RegExp(`connect ${formatAddress(down)}: connection refused`),
    );
    assert.equal(summary.noTarget, 1);
  });

  test('several targets, one down: clients go round-robin to the others, and every one is served', {
    timeout: 15_000,
  }, async () => {
    const down = await deadPort();
    const [a, b] = [await echoTarget('tcp://127.0.0.1:0'), await echoTarget('tcp://127.0.0.1:0')];
    const events: ForwardEvent[] = [];
    const fwd = await start('tcp://127.0.0.1:0', [a.address, down, b.address], {
      onEvent: (e) => events.push(e),
    });
    for (let i = 0; i < 9; i += 1) {
      const data = Buffer.from(`client ${i}`);
      const got = await exchange(await dial(fwd.address), data);
      assert.equal(got.digest, sha256(data));
    }
    const summary = await fwd.stop();
    await Promise.all([a.close(), b.close()]);
    assert.equal(a.served + b.served, 9);
    assert.ok(a.served >= 3 && b.served >= 3, `spread: ${a.served} and ${b.served}`);
    assert.equal(summary.noTarget, 0);
    assert.ok(events.every((e) => e.type === 'target-skipped'));
    assert.equal(events.length, 3, 'the dead target was skipped each time its turn came');
  });

  test('onPair sees each client and its target, and its filters see every byte each way', {
    timeout: 10_000,
  }, async () => {
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const seen = { up: 0, down: 0, pairs: [] as number[] };
    const fwd = await start('tcp://127.0.0.1:0', [echo.address], {
      onPair: (pair) => {
        seen.pairs.push(pair.id);
        assert.ok(pair.upstream, 'a socket target has its connection');
        const up = new PassThrough().on('data', (c: Buffer) => {
          seen.up += c.length;
        });
        // A filter may change what passes: this one upper-cases the reply.
        const down = new PassThrough({
          transform(chunk: Buffer, _enc, callback) {
            seen.down += chunk.length;
            callback(null, Buffer.from(chunk.toString().toUpperCase()));
          },
        });
        return { aToB: up, bToA: down };
      },
    });
    const got = await exchange(await dial(fwd.address), Buffer.from('quiet words'));
    await fwd.stop();
    await echo.close();
    assert.equal(got.digest, sha256(Buffer.from('QUIET WORDS')));
    assert.deepEqual(seen, { up: 11, down: 11, pairs: [1] });
  });

  test('the signal stops it: clients open past the grace are closed, and counted', {
    timeout: 10_000,
  }, async () => {
    const echo = await echoTarget('tcp://127.0.0.1:0');
    const fwd = await start('tcp://127.0.0.1:0', [echo.address], { grace: 100 });
    const client = await dial(fwd.address);
    await client.send('never finished');
    // Its echo proves the forward has joined it to the target.
    for await (const _ of client) break;
    const summary = await fwd.stop();
    // The forward closed it: the client reads the end (or a reset).
    await readAll(client).catch(() => {});
    client.close();
    await echo.close();
    assert.equal(summary.forciblyClosed, 1);
  });
});

describe('forward: hostile clients', () => {
  test('clients that reset mid-transfer: each target connection is closed, no descriptor is left', {
    timeout: 20_000,
  }, async () => {
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const target = await busyTarget('tcp://127.0.0.1:0', 8 * MiB);
    const upstreamClosed: Promise<void>[] = [];
    const fwd = await start('tcp://127.0.0.1:0', [target.listener.address], {
      onPair: (pair) => {
        upstreamClosed.push((pair.upstream as Conn).closed);
        return undefined;
      },
    });
    const before = openFds();
    for (let round = 0; round < 3; round += 1) {
      const clients = await Promise.all(Array.from({ length: 20 }, () => dial(fwd.address)));
      // Each reads a little of the flood, sends a little, then resets.
      await Promise.all(
        clients.map(async (client) => {
          client.write(randomBytes(10_000));
          for await (const _ of client) break;
          client.socket.resetAndDestroy();
        }),
      );
    }
    await Promise.all(upstreamClosed);
    assert.equal(upstreamClosed.length, 60);
    const summary = await fwd.stop();
    assert.equal(summary.clients, 60);
    assert.ok(openFds() <= before, `descriptors: ${before} before, ${openFds()} after`);
    await target.listener.close();
  });
});

describe('forward: programs as targets', () => {
  test('each client gets its own program; the program answers after EOF', { timeout: 15_000 }, async () => {
    const fwd = await start('tcp://127.0.0.1:0', ['sh:wc -c; echo "$SOCKKIT_REMOTE_ADDR $$"']);
    const replies: string[] = [];
    for (let i = 1; i <= 3; i += 1) {
      const client = await dial(fwd.address);
      await sendAll(client, Buffer.alloc(i * 1000));
      const chunks: Buffer[] = [];
      for await (const chunk of client) chunks.push(chunk);
      client.close();
      replies.push(Buffer.concat(chunks).toString());
    }
    await fwd.stop();
    const lines = replies.map((r) => r.trim().split('\n'));
    assert.deepEqual(
      lines.map((l) => l[0]?.trim()),
      ['1000', '2000', '3000'],
    );
    assert.ok(
      lines.every((l) => l[1]?.startsWith('127.0.0.1 ')),
      'the peer address is in the environment',
    );
    assert.equal(new Set(lines.map((l) => l[1])).size, 3, 'three processes');
  });
});
