/**
 * The limit flags through the real CLI: each limit logs one line when it acts, the next client is
 * reset, a freed slot is reused, the shutdown summary counts it all, and bad values exit 2.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { limitLine } from '../../src/cli/options/limits.js';
import { hostPort, runCli, startCli } from '../helpers.js';
import { waitForOutput } from '../interop/tls-certs.js';

function hold(url: string, localAddress?: string): Promise<Socket> {
  const { host, port } = hostPort(url);
  const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => {});
  // A refused client may be reset before 'connect' is reported: either way, hand it back.
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

/** closed resolves once `socket` is closed, by a reset or otherwise. */
function closed(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('limit flags (CLI)', () => {
  test('--max-connections 1: the second client is reset, named in one line; after the first leaves it is served', async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0', '--max-connections', '1']);
    const url = server.urls[0] as string;
    const first = await hold(url);
    // Wait until the server has the first client: its echo proves it.
    first.write('a');
    await once(first, 'data');
    const refused = await runCli(['send', url, 'second']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /connection reset by peer/);
    await waitForOutput(
      server,
      /limit max-connections 127\.0\.0\.1:\d+: refused: 1 connection open \(--max-connections 1\)/,
    );
    first.destroy();
    // The slot frees once the server sees the close; retry a few times (bounded) until it has.
    let served = await runCli(['send', url, 'third']);
    for (let i = 0; i < 20 && served.code !== 0; i++) served = await runCli(['send', url, 'third']);
    assert.equal(served.code, 0, served.stderr);
    assert.equal(served.stdout.toString(), 'third');
    const done = await server.stop();
    assert.equal(done.code, 0);
    assert.match(done.stderr, /refused \d+ by limit \(max-connections \d+\)/);
  });

  test('--deny refuses an address inside --allow; the summary counts access refusals', async () => {
    const server = await startCli([
      'echo',
      'tcp://127.0.0.1:0',
      '--allow',
      '127.0.0.0/8',
      '--deny',
      '127.0.0.5/32',
    ]);
    const url = server.urls[0] as string;
    const denied = await hold(url, '127.0.0.5');
    await closed(denied);
    const allowed = await runCli(['send', url, 'allowed']);
    assert.equal(allowed.stdout.toString(), 'allowed');
    const done = await server.stop();
    assert.match(
      done.stderr,
      /limit access 127\.0\.0\.5:\d+: refused: 127\.0\.0\.5 is not allowed \(--allow\/--deny\)/,
    );
    assert.match(done.stderr, /served 1 connection.*refused 1 by limit \(access 1\)/);
  });

  test('--idle-timeout closes a silent client and --trace narrates it per connection', async () => {
    const server = await startCli(['--trace', 'echo', 'tcp://127.0.0.1:0', '--idle-timeout', '300ms']);
    const silent = await hold(server.urls[0] as string);
    await closed(silent);
    await waitForOutput(
      server,
      /\[server\] limit idle-timeout 127\.0\.0\.1:\d+: closed: idle for 300ms \(--idle-timeout\)$/m,
    );
    const done = await server.stop();
    assert.match(done.stderr, /timed out 1 \(idle 1\)/);
  });

  test('--max-per-ip and the TLS flags work on listen --keep-open too', async () => {
    const server = await startCli([
      'listen',
      'tls://127.0.0.1:0',
      '--self-signed',
      '--keep-open',
      '--max-per-ip',
      '1',
    ]);
    const url = server.urls[0] as string;
    const first = await hold(url);
    const second = await hold(url);
    await closed(second);
    assert.equal(first.destroyed, false);
    first.destroy();
    await waitForOutput(
      server,
      /limit max-per-ip 127\.0\.0\.1:\d+: refused: 1 connection open from 127\.0\.0\.1 \(--max-per-ip 1\)/,
    );
    await server.stop();
  });

  test('malformed limits are usage errors (exit 2) naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--allow', '10.0.0.0/33'], /--allow: invalid prefix length in "10\.0\.0\.0\/33" \(expected 0-32\)/],
      [['--deny', 'not-an-ip'], /--deny: invalid address in "not-an-ip"/],
      [['--max-connections', '0'], /--max-connections: must be from 1 to 1000000 \(got 0\)/],
      [['--idle-timeout', 'soon'], /--idle-timeout: invalid duration "soon"/],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(['echo', 'tcp://127.0.0.1:0', ...flags]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    // listen udp:// relays one peer to stdio and enforces no limit: asking for one is an error.
    const udp = await runCli(['listen', 'udp://127.0.0.1:0', '--deny', '10.0.0.0/8']);
    assert.equal(udp.code, 2);
    assert.match(udp.stderr, /--deny: limits are not enforced by listen udp:\/\//);
  });
});

describe('limitLine', () => {
  test('adds the flag behind the library option that acted; the words from the library name none', () => {
    const peer = '127.0.0.1:53122';
    const cases: [Parameters<typeof limitLine>[0], string][] = [
      [
        {
          limit: 'max-connections',
          peer,
          detail: 'refused: 4 connections open',
          option: { name: 'maxConnections', value: 4 },
        },
        'limit max-connections 127.0.0.1:53122: refused: 4 connections open (--max-connections 4)',
      ],
      [
        {
          limit: 'max-per-ip',
          peer,
          detail: 'refused: 1 connections open from 127.0.0.1',
          option: { name: 'maxPerIp', value: 1 },
        },
        'limit max-per-ip 127.0.0.1:53122: refused: 1 connections open from 127.0.0.1 (--max-per-ip 1)',
      ],
      [
        { limit: 'access', peer, detail: 'refused: 127.0.0.1 is not allowed', option: { name: 'access' } },
        'limit access 127.0.0.1:53122: refused: 127.0.0.1 is not allowed (--allow/--deny)',
      ],
      [
        {
          limit: 'idle-timeout',
          peer,
          detail: 'closed: idle for 30000ms',
          option: { name: 'idleTimeout', value: 30_000 },
        },
        'limit idle-timeout 127.0.0.1:53122: closed: idle for 30000ms (--idle-timeout)',
      ],
      [
        {
          limit: 'handshake-failed',
          peer,
          detail: 'client certificate refused: expired',
          option: { name: 'clientCa' },
        },
        'limit handshake-failed 127.0.0.1:53122: client certificate refused: expired (--client-ca)',
      ],
      [
        {
          limit: 'reply-budget',
          peer,
          detail: 'dropped unanswered: 5 replies this second to 127.0.0.1',
          option: { name: 'replyBudget', value: 5 },
        },
        'limit reply-budget 127.0.0.1:53122: dropped unanswered: 5 replies this second to 127.0.0.1 (--reply-budget 5)',
      ],
      [
        { limit: 'handshake-failed', peer, detail: 'TLS handshake failed: the client does not speak TLS' },
        'limit handshake-failed 127.0.0.1:53122: TLS handshake failed: the client does not speak TLS',
      ],
      [
        {
          limit: 'emfile',
          peer: '',
          detail: 'accept failed: too many open files (EMFILE); refusing new connections for 50ms',
        },
        'limit emfile: accept failed: too many open files (EMFILE); refusing new connections for 50ms',
      ],
      [
        { limit: 'service-error', peer, detail: 'closed: the service failed on this connection: boom' },
        'service error 127.0.0.1:53122: closed: the service failed on this connection: boom',
      ],
    ];
    for (const [event, line] of cases) assert.equal(limitLine(event), line);
  });
});
