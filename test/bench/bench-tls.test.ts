/**
 * `sockkit bench` over tls:// dials as `send` and `connect` do: the same TLS flags (`--ca`,
 * `--servername`, `--cert/--key`, `--fingerprint`, `--insecure`), and the same one-line error when
 * a certificate is refused.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { before, describe, test } from 'node:test';
import { createServer } from 'node:tls';
import { parseAddress } from '../../src/address.js';
import { bench } from '../../src/bench/bench.js';
import { selfSignedCertificate } from '../../src/security/certificate.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';
import { type CliResult, runCli } from '../helpers.js';
import { useTlsFixture } from '../interop/tls-certs.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field in the tests
type Json = Record<string, any>;

/** summaryOf returns the summary line of `sockkit bench --json`, after checking the run was clean. */
function cleanSummary(result: CliResult): Json {
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout.toString().trim().split('\n').pop() ?? '') as Json;
  assert.equal(summary.type, 'summary');
  assert.ok(summary.messages > 0, 'messages came back');
  assert.deepEqual([summary.mismatches, summary.errors], [0, 0]);
  return summary;
}

/**
 * sameFailure runs `bench` and the other clients (`send`, and `connect` unless `sendOnly`)
 * against `url` with `flags`, checks that all fail with exit 1 and print the same one line, and
 * returns that line.
 */
async function sameFailure(url: string, flags: readonly string[], sendOnly = false): Promise<string> {
  const results = await Promise.all([
    runCli(['bench', url, '-t', '300ms', ...flags]),
    runCli(['send', url, 'hi', ...flags]),
    ...(sendOnly ? [] : [runCli(['connect', url, ...flags])]),
  ]);
  const line = results[0]?.stderr ?? '';
  for (const result of results) {
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout.length, 0);
    assert.equal(result.stderr, line);
  }
  assert.equal(line.split('\n').length, 2, `one line: ${line}`);
  return line;
}

describe('sockkit bench with the TLS client flags', () => {
  const tls = useTlsFixture();
  /** A `--self-signed` echo server, and the fingerprint it printed. */
  let selfSigned: { url: string; fingerprint: string };
  before(async () => {
    const server = await tls.start(['echo', 'tls://127.0.0.1:0', '--self-signed']);
    const fingerprint = /SHA-256 fingerprint ([0-9A-F:]{95})/.exec(server.stderr())?.[1];
    assert.ok(fingerprint, server.stderr());
    selfSigned = { url: server.urls[0] as string, fingerprint };
  });

  test('--fingerprint pins a --self-signed server, in worker threads too', { timeout: 9000 }, async () => {
    const { url, fingerprint } = selfSigned;
    const args = ['-c', '2', '--threads', '2', '-t', '300ms', '--fingerprint', fingerprint, '--json'];
    assert.equal(cleanSummary(await runCli(['bench', url, ...args])).threads, 2);
  });

  test('a wrong --fingerprint fails bench with the one line send and connect give', {
    timeout: 9000,
  }, async () => {
    const { url } = selfSigned;
    const wrong = Array(32).fill('AB').join(':');
    const line = await sameFailure(url, ['--fingerprint', wrong]);
    assert.match(
      line,
      new RegExp(
        `^sockkit: connect ${url}: certificate verification failed: fingerprint does not match \\(the server's certificate has fingerprint [0-9A-F:]{95}, not ${wrong}\\)\\n$`,
      ),
    );
  });

  test('--servername names the host the certificate must carry; without it, the URL host is checked', {
    timeout: 9000,
  }, async () => {
    const server = await tls.start([
      'echo',
      'tls://127.0.0.1:0',
      '--cert',
      tls.certs.wrongHost.cert,
      '--key',
      tls.certs.wrongHost.key,
    ]);
    const url = server.urls[0] as string;
    const [line, named] = await Promise.all([
      sameFailure(url, ['--ca', tls.certs.caCert], true),
      runCli([
        'bench',
        url,
        '-t',
        '300ms',
        '--ca',
        tls.certs.caCert,
        '--servername',
        'other.example',
        '--json',
      ]),
    ]);
    assert.match(
      line,
      /^sockkit: connect tls:\/\/127\.0\.0\.1:\d+: certificate verification failed: wrong host /,
    );
    cleanSummary(named);
  });

  test('--cert and --key answer a server that requires a client certificate', { timeout: 9000 }, async () => {
    const server = await tls.echo('--client-ca', tls.certs.caCert);
    const result = await runCli([
      'bench',
      server.urls[0] as string,
      '--reconnect',
      '-t',
      '300ms',
      '--ca',
      tls.certs.caCert,
      '--cert',
      tls.certs.client.cert,
      '--key',
      tls.certs.client.key,
      '--json',
    ]);
    assert.ok(cleanSummary(result).connections_per_second > 0);
  });

  test('TLS flags with a tcp:// URL are a usage error, as for send', { timeout: 9000 }, async () => {
    const result = await runCli([
      'bench',
      'tcp://127.0.0.1:9',
      '--fingerprint',
      Array(32).fill('AB').join(':'),
    ]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      'sockkit: bench: --fingerprint applies to tls:// or wss:// addresses only, not tcp://127.0.0.1:9\n',
    );
  });
});

test("bench's connect failure over tls:// is the error dial gives: same class, code and message", {
  timeout: 9000,
}, async () => {
  const { cert, key } = await selfSignedCertificate(['localhost']);
  const listener = await listen(parseAddress('tls://127.0.0.1:0'), { tls: { cert, key } });
  try {
    const dialed = await dial(listener.address, { tls: { ca: cert } }).then(
      () => assert.fail('dial should refuse a certificate for another host'),
      (err: Error) => err,
    );
    assert.equal(dialed.name, 'TlsError');
    // Over two threads, the CA (a Buffer, as the CLI reads it) crosses to the workers intact: were
    // it lost, the certificate would be refused as self-signed rather than for the wrong host.
    const tls = { ca: Buffer.from(cert) };
    for (const threads of [1, 2]) {
      await assert.rejects(bench({ address: listener.address, tls, threads, connections: 2 }), {
        name: dialed.name,
        code: 'ERR_TLS',
        message: dialed.message,
      });
    }
  } finally {
    await listener.close();
  }
});

test('a first connection refused during its handshake is counted, and the others run on', {
  timeout: 9000,
}, async () => {
  const { cert, key } = await selfSignedCertificate(['127.0.0.1']);
  let accepted = 0;
  const server = createServer({ cert, key }, (socket) => socket.on('error', () => {}).pipe(socket));
  // The first connection is reset before its handshake; the bench opens it first, on its own.
  server.on('connection', (raw: Socket) => {
    accepted += 1;
    raw.on('error', () => {});
    if (accepted === 1) raw.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const report = await bench({
      address: parseAddress(`tls://127.0.0.1:${port}`),
      tls: { insecure: true },
      connections: 3,
      duration: 500,
    });
    assert.equal(report.errors, 1, JSON.stringify(report.errorsByKind));
    assert.equal(report.errorsByKind.reset, 1);
    assert.ok(report.messages > 0, 'the two other connections ran');
    assert.equal(report.mismatches, 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
