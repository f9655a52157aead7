import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers.js';
import { whyNoNobody } from '../nobody.js';

const HIDE_ADDON = fileURLToPath(new URL('./hide-raw-socket.js', import.meta.url));
const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

/** steps returns the numbers of the narrated steps, in the order they were told. */
function steps(text: string): number[] {
  return [...text.matchAll(/^(\d)\. /gm)].map((m) => Number(m[1]));
}

test('demo narrates the TCP echo as it always has, exit 0', { timeout: 10_000 }, async () => {
  const result = await runCli(['demo']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.deepEqual(steps(text), [1, 2, 3, 4]);
  const order = [
    /^\[server\] #\d+ socket tcp4 created$/m,
    /^\[server\] #\d+ listening \(backlog 511\)$/m,
    /^ {3}The server is listening on tcp:\/\/127\.0\.0\.1:\d+\.$/m,
    /^\[client\] #\d+ connecting to 127\.0\.0\.1:\d+$/m,
    /^\[client\] #\d+ sent 12 bytes to 127\.0\.0\.1:\d+$/m,
    /^\[client\] #\d+ shutdown write \(FIN sent\)$/m,
    /^\[client\] #\d+ closed$/m,
    /^Sent "Hello, world", received "Hello, world": the echo is exact\.$/m,
    /^Next: run `npx sockkit echo` in one terminal and `npx sockkit connect tcp:\/\/127\.0\.0\.1:65432`$/m,
  ];
  let at = 0;
  for (const pattern of order) {
    const found = pattern.exec(text.slice(at));
    assert.ok(found, `${pattern} after offset ${at}:\n${text}`);
    at += found.index + found[0].length;
  }
  assert.match(text, /^\[server\] #\d+ accepted 127\.0\.0\.1:\d+$/m);
  assert.equal(result.stderr, '');
});

test('demo udp: three datagrams in, three out, boundaries kept; a refused port; the size limit', {
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'udp']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.deepEqual(steps(text), [1, 2, 3, 4, 5, 6, 7]);
  // No listen, no accept, no connection for the echo itself.
  assert.doesNotMatch(text, /listening|accepted|connecting/);
  assert.equal(text.match(/^\[client\] #2 sent 14 bytes to 127\.0\.0\.1:\d+$/gm)?.length, 3, text);
  assert.equal(text.match(/^\[server\] #1 recv 14 bytes from 127\.0\.0\.1:\d+$/gm)?.length, 3, text);
  assert.equal(text.match(/^\[client\] #2 recv 14 bytes from 127\.0\.0\.1:\d+$/gm)?.length, 3, text);
  for (const n of [1, 2, 3])
    assert.match(text, new RegExp(`^ {3}${n}\\. "Hello, world ${n}" \\(14 bytes\\)`, 'm'));
  assert.match(text, /UDP: 3 datagrams sent, 3 received, 3 echoed back, each whole: boundaries kept\./);
  assert.match(text, /TCP: 3 writes, \d reads?:/);
  assert.match(text, /^ {3}send udp:\/\/127\.0\.0\.1:\d+: connection refused \(ICMP port unreachable\)\.$/m);
  assert.match(text, /^\[client\] #\d+ error: connection refused$/m);
  assert.match(text, /^ {3}65507 bytes sent as one datagram, 65507 bytes echoed back in one datagram\.$/m);
  assert.match(text, /65508 bytes: refused before sending .*ERR_MESSAGE_TOO_LARGE/);
  assert.match(
    text,
    /^3 datagrams sent, 3 received and echoed: boundaries kept\. A port nobody serves: refused\.$/m,
  );
  assert.match(text, /^65507 bytes fit in one datagram; 65508 do not\.$/m);
  assert.match(text, /^Next: run `npx sockkit echo udp:\/\/127\.0\.0\.1:7007 --trace`/m);
});

test('demo udp://[::1]:0 runs the datagram demo over IPv6, with its own size limit', {
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'udp://[::1]:0', '--message', 'six']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.match(text, /^\[server\] #1 bound to \[::1\]:\d+$/m);
  assert.match(text, /^ {3}1\. "six 1" \(5 bytes\)/m);
  assert.match(text, /^65527 bytes fit in one datagram; 65528 do not\.$/m);
});

test('demo tls: a certificate, a client that refuses it, one that verifies it, ciphertext on the wire', {
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'tls', '--message', 'top secret']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.deepEqual(steps(text), [1, 2, 3, 4, 5, 6]);
  assert.match(text, /^ {3}names {8}IP Address:127\.0\.0\.1, DNS:localhost$/m);
  assert.match(text, /^ {3}fingerprint {2}SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
  assert.match(
    text,
    /^ {3}connect tls:\/\/127\.0\.0\.1:\d+: certificate verification failed: self-signed certificate$/m,
  );
  assert.match(text, /^\[client\] #\d+ TLS handshake done: TLSv1\.[23], /m);
  assert.match(text, /^\[server\] #\d+ TLS handshake done: /m);
  // The plaintext in the left column, a TLS application-data record (type 23 = 0x17) in the right.
  assert.match(text, /^ {3}0000 {2}74 6f 70 20 73 65 63 72 {2}top secr {3}0000 {2}17 03 03 /m);
  assert.match(text, /10 bytes of plaintext became \d+ bytes on the wire: a 5-byte record header \(type 23/);
  assert.match(
    text,
    /^Sent "top secret", received "top secret" over TLS: the echo is exact; the wire tap saw only ciphertext\.$/m,
  );
});

test('demo raw: an echo request built by hand, its checksum step by step, the reply with its IPv4 header', {
  skip: needsRoot,
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'raw']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.deepEqual(steps(text), [1, 2, 3, 4, 5, 6]);
  assert.match(text, /^ {3}0 {7}08 {8}type 8: echo request$/m);
  assert.match(text, /^ {3}\+ 4865 {3}payload "He" +sum 0x[0-9a-f]{5}$/m);
  const checksum = /^ {3}one's complement: ~0x[0-9a-f]{4} = 0x([0-9a-f]{4}), the checksum$/m.exec(text);
  assert.ok(checksum, text);
  assert.match(text, new RegExp(`internetChecksum\\(\\) from the library agrees: 0x${checksum[1]}\\.`));
  assert.match(
    text,
    new RegExp(
      `^ {5}0002 {2}${checksum[1]?.slice(0, 2)} ${checksum[1]?.slice(2)} +checksum 0x${checksum[1]} \\(correct\\)$`,
      'm',
    ),
  );
  assert.match(text, /^\[client\] #\d+ sent 20 bytes to 127\.0\.0\.1$/m);
  // The reply as the raw socket delivers it: the kernel's IPv4 header first.
  assert.match(text, /^ {3}40 bytes from 127\.0\.0\.1:$/m);
  assert.match(text, /^ {5}0000 {2}45 +IPv4: version 4, header length 20$/m);
  assert.match(text, /^ {5}0009 {2}01 +protocol 1 \(ICMP\)$/m);
  assert.match(text, /^ {5}0014 {2}00 +ICMP: type 0 \(echo reply\)$/m);
  assert.match(text, /payload returned unchanged\.$/m);
  assert.match(text, /^\[client\] #\d+ closed$/m);
});

test('demo raw without root or CAP_NET_RAW fails with one line saying how to run it, exit 1', {
  skip: whyNoNobody(),
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'raw'], {
    wrapper: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
  });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout.length, 0, result.stdout.toString());
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0] ?? '',
    /^sockkit: demo raw 127\.0\.0\.1: raw sockets need root or the CAP_NET_RAW capability; run as root, or grant it with: sudo setcap cap_net_raw\+ep /,
  );
});

test('demo raw without the raw-socket addon fails with one line saying how to build it, exit 1', {
  timeout: 10_000,
}, async () => {
  const result = await runCli(['demo', 'raw'], { nodeArgs: ['--import', HIDE_ADDON] });
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout.length, 0, result.stdout.toString());
  assert.match(
    result.stderr,
    /^sockkit: demo raw 127\.0\.0\.1: raw sockets are unavailable: the optional raw-socket addon is not installed or did not build \(ERR_MODULE_NOT_FOUND\); install .*\n$/,
  );
});

/** usageErrors runs each case and checks it fails with its one line, exit 2. */
async function usageErrors(cases: ReadonlyArray<[string[], RegExp]>): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const result = results[i] as Awaited<ReturnType<typeof runCli>>;
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr.trim(), message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
}

test('an unknown demo or a malformed URL is a usage error: one line, exit 2', {
  timeout: 10_000,
}, async () => {
  await usageErrors([
    [['demo', 'sctp'], /^sockkit: demo: unknown demo "sctp" \(use tcp, udp, tls, raw, or a URL\)$/],
    [['demo', 'tcp://127.0.0.1'], /^sockkit: address "tcp:\/\/127\.0\.0\.1": /],
  ]);
});

test('--web with a kind, or with an address that is not tcp://, is a usage error: one line, exit 2', {
  timeout: 10_000,
}, async () => {
  await usageErrors([
    [
      ['demo', 'udp', '--web'],
      /^sockkit: demo: --web runs every demo from its page; give no kind or URL \(got "udp"\)$/,
    ],
    [
      ['demo', '--web', 'udp://127.0.0.1:0'],
      /^sockkit: --web: udp:\/\/127\.0\.0\.1:0: the page is served over tcp:\/\//,
    ],
    [['demo', '--web', '70000'], /^sockkit: --web: must be from 0 to 65535 \(got 70000\)/],
  ]);
});
