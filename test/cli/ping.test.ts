import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli, startCli } from '../helpers.js';
import { whyNoNobody } from '../nobody.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';
const HIDE_ADDON = fileURLToPath(new URL('./hide-raw-socket.js', import.meta.url));

test('ping 127.0.0.1 prints a line per reply and the iputils summary, exit 0', {
  skip: needsRoot,
}, async () => {
  const result = await runCli(['ping', '127.0.0.1', '--count', '2', '--interval', '50ms']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.toString().split('\n');
  assert.equal(lines[0], 'PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.');
  assert.match(lines[1] ?? '', /^64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=\d+\.\d+ ms$/);
  assert.match(lines[2] ?? '', /^64 bytes from 127\.0\.0\.1: icmp_seq=2 ttl=64 time=\d+\.\d+ ms$/);
  assert.equal(lines[3], '');
  assert.equal(lines[4], '--- 127.0.0.1 ping statistics ---');
  assert.match(lines[5] ?? '', /^2 packets transmitted, 2 received, 0% packet loss, time \d+ms$/);
  assert.match(
    lines[6] ?? '',
    /^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/,
  );
  assert.equal(result.stderr, '');
});

test('ping ::1 uses the IPv6 header line and shows no ttl', { skip: needsRoot }, async () => {
  const result = await runCli(['ping', '::1', '-c', '1', '-s', '8']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.toString().split('\n');
  assert.equal(lines[0], 'PING ::1(::1) 8 data bytes');
  assert.match(lines[1] ?? '', /^16 bytes from ::1: icmp_seq=1 time=\d+\.\d+ ms$/);
});

test('--json prints one object per event and a summary', { skip: needsRoot }, async () => {
  const result = await runCli(['ping', '127.0.0.1', '-c', '2', '-i', '20ms', '--json', '-4']);
  assert.equal(result.code, 0, result.stderr);
  const events = result.stdout
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  // Request 2 may leave before reply 1 arrives (20 ms apart on a busy machine): each reply
  // follows its own request, in whatever order the two interleave.
  const order = events.map((event) => `${event.type}${event.sequence ?? ''}`);
  assert.deepEqual([...order].sort(), ['reply1', 'reply2', 'sent1', 'sent2', 'summary'], order.join(' '));
  assert.ok(order.indexOf('sent1') < order.indexOf('reply1'), order.join(' '));
  assert.ok(order.indexOf('sent2') < order.indexOf('reply2'), order.join(' '));
  assert.ok(order.indexOf('sent1') < order.indexOf('sent2'), order.join(' '));
  assert.equal(order.at(-1), 'summary');
  assert.equal(events.find((event) => event.type === 'reply')?.ttl, 64);
  assert.equal(events.at(-1)?.received, 2);
  // Every round-trip figure is rounded to the microsecond, in the events and in the summary.
  const rtt = events.at(-1)?.rtt as Record<string, number>;
  for (const ms of [
    ...Object.values(rtt),
    ...events.filter((e) => e.type === 'reply').map((e) => e.rtt as number),
  ])
    assert.equal(ms, Number(ms.toFixed(3)), `${ms} is not rounded`);
  assert.equal(events.at(-1)?.loss, 0);
});

test('--hexdump shows the request and the reply field by field', { skip: needsRoot }, async () => {
  const result = await runCli(['ping', '127.0.0.1', '-c', '1', '--hexdump', '--size', '4']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.match(
    text,
    /^> sent 12 bytes to 127\.0\.0\.1: ICMP echo request \(the kernel adds the IPv4 header\)$/m,
  );
  assert.match(text, /^ {2}0000 {2}08 {23}ICMP: type 8 \(echo request\)$/m);
  assert.match(text, /^< received 32 bytes from 127\.0\.0\.1: ICMP echo reply$/m);
  assert.match(text, /^ {2}0008 {2}40 {23}TTL 64$/m);
  assert.match(text, /checksum 0x[0-9a-f]{4} \(correct\)/);
  assert.match(text, /^ {2}001c {2}00 01 02 03 {14}payload, 4 bytes$/m);
});

test('--trace narrates the raw socket', { skip: needsRoot }, async () => {
  const result = await runCli(['--trace', 'ping', '127.0.0.1', '-c', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^\[ping\] #\d+ socket icmp4 created$/m);
  assert.match(result.stderr, /^\[ping\] #\d+ sent 64 bytes to 127\.0\.0\.1$/m);
  assert.match(result.stderr, /^\[ping\] #\d+ recv 84 bytes from 127\.0\.0\.1$/m);
  assert.match(result.stderr, /^\[ping\] #\d+ closed$/m);
});

test('bad values are usage errors: one line, exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['ping', '127.0.0.1', '--count', '0'], /^sockkit: --count: must be from 1 to 1000000000 \(got 0\)/],
    [['ping', '127.0.0.1', '--ttl', '256'], /^sockkit: --ttl: must be from 1 to 255 \(got 256\)/],
    [['ping', '127.0.0.1', '--size', '70000'], /^sockkit: --size: must be from 0B to 65507B \(got 70000\)/],
    [['ping', '127.0.0.1', '--interval', 'soon'], /^sockkit: --interval: invalid duration "soon"/],
    [['ping', '127.0.0.1', '-4', '-6'], /^sockkit: ping: -4 and -6 exclude each other/],
    [['ping'], /^sockkit: ping: missing required argument 'host'/],
    [
      ['ping', 'tcp://127.0.0.1:7'],
      /^sockkit: ping: tcp:\/\/127\.0\.0\.1:7: give a host name or IP address, not a URL \(ICMP has no ports\)$/m,
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});

test('without root or CAP_NET_RAW ping fails with one line saying how to grant it', {
  skip: whyNoNobody(),
}, async () => {
  for (const command of [
    ['ping', '127.0.0.1', '-c', '1'],
    ['traceroute', '::1'],
  ]) {
    const result = await runCli(command, {
      wrapper: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout.length, 0);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^sockkit: ${command[0]} ${command[1]?.replace(/\./g, '\\.')}: raw sockets need root or the CAP_NET_RAW capability; run as root, or grant it with: sudo setcap cap_net_raw\\+ep `,
      ),
    );
  }
});

test('without the raw-socket addon ping fails with one line saying how to build it', async () => {
  accessSync(HIDE_ADDON, constants.R_OK);
  const result = await runCli(['ping', '127.0.0.1', '-c', '1'], { nodeArgs: ['--import', HIDE_ADDON] });
  // stdout too: a PING line there means the addon loaded after all.
  assert.equal(result.code, 1, `${result.stdout}${result.stderr}`);
  assert.equal(result.stdout.length, 0, result.stdout.toString());
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0] ?? '',
    /^sockkit: ping 127\.0\.0\.1: raw sockets are unavailable: the optional raw-socket addon is not installed or did not build \(ERR_MODULE_NOT_FOUND\); install a C\+\+ compiler, make and python3, then run `npm rebuild raw-socket`$/,
  );
});

test('without the raw-socket addon the other commands still work', async () => {
  const result = await runCli(['ping', '--help'], { nodeArgs: ['--import', HIDE_ADDON] });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.toString(), /Examples:\n {2}sockkit ping 127\.0\.0\.1 --count 3/);
});

test('Ctrl-C stops an endless ping with the summary, exit 0', { skip: needsRoot }, async () => {
  const ping = await startCli(['ping', '127.0.0.1', '--interval', '100ms'], { listens: 0, timeout: 8000 });
  await ping.waitFor(/icmp_seq=2 /, 'stdout', 7000);
  const { code, stdout } = await ping.stop('SIGINT');
  const out = stdout.toString();
  assert.equal(code, 0, out);
  const summary = /^--- 127\.0\.0\.1 ping statistics ---\n(\d+) packets transmitted, (\d+) received/m.exec(
    out,
  );
  assert.ok(summary, out);
  assert.ok(Number(summary[2]) >= 2, out);
});

test('--hexdump on IPv6 verifies both checksums over the pseudo-header', { skip: needsRoot }, async () => {
  const result = await runCli(['ping', '::1', '-c', '1', '--hexdump', '--size', '4']);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout.toString();
  assert.match(text, /^> sent 12 bytes to ::1: ICMPv6 echo request$/m);
  assert.match(text, /^< received 12 bytes from ::1: ICMPv6 echo reply$/m);
  assert.equal(text.match(/checksum 0x[0-9a-f]{4} \(correct\)$/gm)?.length, 2, text);
});
