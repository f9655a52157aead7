/**
 * The TCP socket options of dial and listen, checked on the real sockets: the source address and
 * port the server sees, TCP_NODELAY and keepalive as the kernel reports them (getsockopt), the
 * accept queue as `ss` shows it, and IPV6_V6ONLY by an IPv4 client refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { type Conn, dial, type InetAddress, type Listener, listen, parseAddress } from '../../src/index.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { socketOptions } from '../socket-probe.js';

const run = promisify(execFile);

function urlOf(listener: Listener): string {
  const { host, port } = listener.address as InetAddress;
  return `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** freePort returns a port nobody holds right now on 127.0.0.2. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function withListener(
  url: string,
  options: Parameters<typeof listen>[1],
  body: (listener: Listener) => Promise<void>,
): Promise<void> {
  const listener = await listen(parseAddress(url), options);
  try {
    await body(listener);
  } finally {
    await listener.close();
  }
}

test('dial from a local address and port: the server sees that source', { timeout: 5000 }, async () => {
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const localPort = await freePort();
    const accepted = listener.accept();
    const conn = await dial(parseAddress(urlOf(listener)), { tcp: { localAddress: '127.0.0.2', localPort } });
    const server = await accepted;
    assert.deepEqual(server.remoteAddress, { scheme: 'tcp', host: '127.0.0.2', port: localPort });
    assert.deepEqual(conn.localAddress, { scheme: 'tcp', host: '127.0.0.2', port: localPort });
    conn.close();
    server.close();
  });
});

test('a local address restricts a name to its family: localhost from 127.0.0.1 connects over IPv4', {
  timeout: 5000,
}, async () => {
  await withListener('tcp://localhost:0', {}, async (listener) => {
    const port = (listener.address as InetAddress).port;
    const conn = await dial(parseAddress(`tcp://localhost:${port}`), { tcp: { localAddress: '127.0.0.1' } });
    assert.equal((conn.remoteAddress as InetAddress).host, '127.0.0.1');
    conn.close();
  });
});

test('a local address this host does not have is ERR_ADDRESS_NOT_AVAILABLE', { timeout: 5000 }, async () => {
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const url = urlOf(listener);
    await assert.rejects(dial(parseAddress(url), { tcp: { localAddress: '192.0.2.1' } }), {
      code: 'ERR_ADDRESS_NOT_AVAILABLE',
      message: `connect ${url}: address not available on this host`,
    });
  });
});

test('a local port someone holds is ERR_ADDRESS_IN_USE', { timeout: 5000 }, async () => {
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const holder = await listen(parseAddress('tcp://127.0.0.2:0'));
    try {
      const localPort = (holder.address as InetAddress).port;
      await assert.rejects(
        dial(parseAddress(urlOf(listener)), { tcp: { localAddress: '127.0.0.2', localPort } }),
        {
          code: 'ERR_ADDRESS_IN_USE',
        },
      );
    } finally {
      await holder.close();
    }
  });
});

test('tcp options that cannot work are usage errors naming the option', async () => {
  const address = parseAddress('tcp://127.0.0.1:9');
  await assert.rejects(dial(address, { tcp: { keepAlive: 500 } }), {
    code: 'ERR_USAGE',
    option: 'keepAlive',
  });
  await assert.rejects(dial(address, { tcp: { localPort: 70000 } }), {
    code: 'ERR_USAGE',
    option: 'localPort',
  });
  await assert.rejects(dial(address, { tcp: { localAddress: 'localhost' } }), {
    code: 'ERR_USAGE',
    option: 'localAddress',
  });
  await assert.rejects(listen(parseAddress('tcp://127.0.0.1:0'), { backlog: 0 }), {
    code: 'ERR_USAGE',
    option: 'backlog',
  });
});

test('a dialed socket has Nagle off by default; noDelay false turns it on', { timeout: 5000 }, async () => {
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const plain = await dial(parseAddress(urlOf(listener)));
    const nagle = await dial(parseAddress(urlOf(listener)), { tcp: { noDelay: false } });
    assert.equal((await socketOptions(plain.socket as Socket)).nodelay, true);
    assert.equal((await socketOptions(nagle.socket as Socket)).nodelay, false);
    plain.close();
    nagle.close();
  });
});

test('keepAlive sets SO_KEEPALIVE and the idle time in whole seconds; off by default', {
  timeout: 5000,
}, async () => {
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const plain = await dial(parseAddress(urlOf(listener)));
    const kept = await dial(parseAddress(urlOf(listener)), { tcp: { keepAlive: 7000 } });
    assert.equal((await socketOptions(plain.socket as Socket)).keepalive, false);
    const options = await socketOptions(kept.socket as Socket);
    assert.equal(options.keepalive, true);
    assert.equal(options.keepidle, 7);
    plain.close();
    kept.close();
  });
});

test('a listener applies keepAlive and noDelay to every connection it accepts', {
  timeout: 5000,
}, async () => {
  const tcp = { keepAlive: 9000, noDelay: false };
  await withListener('tcp://127.0.0.1:0', { tcp }, async (listener) => {
    const { port } = listener.address as InetAddress;
    const client = connect({ host: '127.0.0.1', port });
    const conn: Conn = await listener.accept();
    const options = await socketOptions(conn.socket as Socket);
    assert.deepEqual([options.keepalive, options.keepidle, options.nodelay], [true, 9, false]);
    client.destroy();
    conn.close();
  });
  await withListener('tcp://127.0.0.1:0', {}, async (listener) => {
    const { port } = listener.address as InetAddress;
    const client = connect({ host: '127.0.0.1', port });
    const conn = await listener.accept();
    const options = await socketOptions(conn.socket as Socket);
    assert.deepEqual([options.keepalive, options.nodelay], [false, true]);
    client.destroy();
    conn.close();
  });
});

test('backlog is the accept queue listen(2) got, as ss shows it (Send-Q)', { timeout: 5000 }, async () => {
  await withListener('tcp://127.0.0.1:0', { backlog: 3 }, async (listener) => {
    const { port } = listener.address as InetAddress;
    const { stdout } = await run('ss', ['-Hltn', `sport = :${port}`]);
    const [, , sendQ] = stdout.trim().split(/\s+/);
    assert.equal(sendQ, '3', stdout);
  });
});

test('ipv6Only keeps [::] to IPv6: an IPv4 client is refused, an IPv6 one accepted', {
  timeout: 5000,
}, async () => {
  for (const ipv6Only of [true, false]) {
    await withListener('tcp://[::]:0', { ipv6Only }, async (listener) => {
      const { port } = listener.address as InetAddress;
      const v4 = connect({ host: '127.0.0.1', port });
      const v4Outcome = await new Promise((resolve) => {
        v4.once('connect', () => resolve('connected'));
        v4.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      });
      v4.destroy();
      assert.equal(v4Outcome, ipv6Only ? 'ECONNREFUSED' : 'connected');
      const v6 = connect({ host: '::1', port });
      await once(v6, 'connect');
      v6.destroy();
    });
  }
});

test('tls:// runs over TCP: the source, keepAlive and noDelay reach the socket on both sides', {
  timeout: 8000,
}, async () => {
  const cert = await selfSignedCertificate(['localhost']);
  const tls = { cert: cert.cert, key: cert.key };
  await withListener('tls://127.0.0.1:0', { tls, tcp: { keepAlive: 11_000 } }, async (listener) => {
    const { port } = listener.address as InetAddress;
    const accepted = listener.accept();
    const conn = await dial(parseAddress(`tls://127.0.0.1:${port}`), {
      tls: { insecure: true },
      tcp: { localAddress: '127.0.0.2', keepAlive: 13_000, noDelay: false },
    });
    const server = await accepted;
    try {
      assert.equal((server.remoteAddress as InetAddress).host, '127.0.0.2');
      const client = await socketOptions(conn.socket as Socket);
      assert.deepEqual([client.keepalive, client.keepidle, client.nodelay], [true, 13, false]);
      const served = await socketOptions(server.socket as Socket);
      assert.deepEqual([served.keepalive, served.keepidle, served.nodelay], [true, 11, true]);
    } finally {
      conn.close();
      server.close();
    }
  });
});
