import assert from 'node:assert/strict';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { parseAddress } from '../../src/address.js';
import { checkFaultsApply, parseFraction, parseLimit, parseRateFlag } from '../../src/cli/options/faults.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { UsageError } from '../../src/errors.js';
import { DatagramFaults } from '../../src/faults/datagram-faults.js';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const T = { timeout: 10_000 };

/** talk connects `socket`, sends `data` once connected, and resolves with what came back and how it ended. */
function talk(
  socket: Socket,
  data: string | Buffer,
  event = 'connect',
): Promise<{ received: Buffer; end: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (end: string): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), end });
    };
    socket.once(event, () => socket.write(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => finish('eof'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
  });
}

test(
  'echo --close-after 100 sends back exactly 100 bytes then EOF, and the summary counts it',
  T,
  async () => {
    const server = await startCli([
      '--trace',
      'echo',
      'tcp://127.0.0.1:0',
      '--close-after',
      '100',
      '--seed',
      '7',
    ]);
    const { host, port } = hostPort(server.urls[0] as string);
    const outcome = await talk(connectTcp({ host, port }), Buffer.alloc(300, 'a'));
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.length, 100);
    const result = await server.stop();
    assert.equal(result.code, 0);
    assert.match(
      result.stderr,
      /^sockkit: injecting faults: close after 100 bytes \(seed 7; --seed 7 repeats them\)$/m,
    );
    assert.match(result.stderr, /^sockkit: faults injected: 1 connection closed \(seed 7\)$/m);
    // --trace narrates the fault between the bytes sent and the FIN.
    assert.match(
      result.stderr,
      /sent \d+ bytes to [^\n]*\n[^\n]*#\d+ fault: close \(FIN\) as planned\n[^\n]*shutdown write/,
    );
  },
);

test('echo over unix with --delay holds the echo at least that long', T, async () => {
  const dir = tempDir();
  const path = join(dir.path, 'echo.sock');
  const server = await startCli(['echo', `unix:${path}`, '--delay', '200ms', '--jitter', '0']);
  try {
    const sentAt = performance.now();
    const socket = connectTcp({ path });
    const firstByte = new Promise<number>((resolve) => socket.once('data', () => resolve(performance.now())));
    const outcome = talk(socket, 'ping');
    const rtt = (await firstByte) - sentAt;
    socket.end();
    assert.ok(rtt >= 200, `round trip ${rtt.toFixed(1)}ms`);
    assert.equal((await outcome).received.toString(), 'ping');
  } finally {
    const result = await server.stop();
    assert.match(result.stderr, /faults injected: 1 chunk delayed/);
    dir.remove();
  }
});

test('echo over tls with --reset-after resets the TCP connection under TLS', T, async () => {
  const server = await startCli(['echo', 'tls://127.0.0.1:0', '--self-signed', '--reset-after', '200ms']);
  try {
    const { host, port } = hostPort(server.urls[0] as string);
    const socket = connectTls({ host, port, rejectUnauthorized: false });
    const outcome = await talk(socket, 'hello', 'secureConnect');
    assert.equal(outcome.end, 'ECONNRESET');
  } finally {
    const result = await server.stop();
    assert.match(result.stderr, /faults injected: 1 connection reset/);
  }
});

test('echo udp with --loss and --duplicate answers as its seed decides, and counts it', T, async () => {
  const plan = { loss: 0.5, duplicate: 0.25, seed: 21 };
  const server = await startCli([
    'echo',
    'udp://127.0.0.1:0',
    '--loss',
    '50%',
    '--duplicate',
    '0.25',
    '--seed',
    '21',
  ]);
  const n = 40;
  const expected = new Array<number>(n).fill(0);
  const predict = new DatagramFaults(plan);
  for (let i = 0; i < n; i += 1) predict.pass(i, (d) => (expected[d] = (expected[d] as number) + 1));
  const client = await dialPacket(parseAddress(server.urls[0] as string));
  try {
    const got = new Array<number>(n).fill(0);
    const wanted = expected.reduce((sum, x) => sum + x, 0);
    const all = new Promise<void>((resolve) => {
      let received = 0;
      client.onMessage((data) => {
        const i = data.readUInt8(0);
        got[i] = (got[i] as number) + 1;
        received += 1;
        if (received === wanted) resolve();
      });
    });
    for (let i = 0; i < n; i += 1) await client.send(Buffer.from([i]));
    await all;
    assert.deepEqual(got, expected);
  } finally {
    await client.close();
  }
  const result = await server.stop();
  const lost = expected.filter((x) => x === 0).length;
  const twice = expected.filter((x) => x === 2).length;
  assert.match(
    result.stderr,
    new RegExp(`faults injected: ${lost} datagrams? lost, ${twice} datagrams? duplicated \\(seed 21\\)`),
  );
});

test('a fault flag with a value that cannot work is a UsageError naming the flag', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parseFraction('150%', '--loss'), /^--loss: must be from 0 to 1, or 0% to 100% \(got 150%\)$/],
    [() => parseFraction('often', '--duplicate'), /^--duplicate: invalid fraction "often"/],
    [() => parseRateFlag('0', '--throttle'), /^--throttle: must be from 1B to 10GiB \(got 0\)$/],
    [() => parseRateFlag('fast', '--throttle'), /^--throttle: invalid size "fast"/],
    [() => parseLimit('1m', '--close-after'), /^--close-after: "1m" is ambiguous: write 60s for a minute/],
    [() => parseLimit('2d', '--reset-after'), /^--reset-after: invalid value "2d" \(expected bytes as 1000/],
    [() => parseLimit('48h', '--reset-after'), /^--reset-after: must be from 0s to 24h \(got 48h\)$/],
  ];
  for (const [parse, message] of cases) {
    assert.throws(
      parse,
      (err: unknown) => err instanceof UsageError && message.test(err.message),
      String(message),
    );
  }
});

test('fault values read as people write them: fractions, rates per second, bytes or durations', () => {
  assert.equal(parseFraction('5%', '--loss'), 0.05);
  assert.equal(parseFraction('0.25', '--loss'), 0.25);
  assert.equal(parseFraction('.5', '--loss'), 0.5);
  assert.equal(parseRateFlag('100k', '--throttle'), 100_000);
  assert.equal(parseRateFlag('1MiB/s', '--throttle'), 1024 ** 2);
  assert.deepEqual(parseLimit('1000', '--close-after'), { bytes: 1000 });
  assert.deepEqual(parseLimit('64KiB', '--close-after'), { bytes: 65536 });
  assert.deepEqual(parseLimit('1MB', '--close-after'), { bytes: 1_000_000 });
  assert.deepEqual(parseLimit('250ms', '--close-after'), { ms: 250 });
  assert.deepEqual(parseLimit('2s', '--reset-after'), { ms: 2000 });
});

test('a fault no URL takes is a usage error, not silently ignored', () => {
  assert.throws(() => checkFaultsApply('echo', { loss: 0.05 }, ['tcp', 'unix']), {
    message: 'echo: loss applies to udp, and no URL is udp',
    option: 'loss',
  });
  assert.throws(() => checkFaultsApply('echo', { resetAfter: { ms: 5 } }, ['udp']), {
    message: 'echo: resetAfter applies to streams (tcp, tls, unix), and every URL is udp',
    option: 'resetAfter',
  });
  checkFaultsApply('echo', { loss: 0.05, slice: 3, delay: 5 }, ['tcp', 'udp']);
});

test('on the command line, a bad fault value or flag is one line and exit 2', T, async () => {
  // Two processes only: the values themselves are checked in-process above.
  const [workers, where] = await Promise.all([
    runCli(['echo', '--delay', '1s', '--workers', '2']),
    runCli(['echo', 'udp://127.0.0.1:0', '--reset-after', '2s']),
  ]);
  assert.equal(where.code, 2);
  assert.equal(
    where.stderr,
    'sockkit: echo: --reset-after applies to streams (tcp, tls, unix), and every URL is udp\n',
  );
  assert.equal(workers.code, 2);
  assert.equal(
    workers.stderr,
    'sockkit: --workers: faults are injected in one process: drop --workers or the faults\n',
  );
});

test('echo --help lists every fault flag with working examples', T, async () => {
  const result = await runCli(['echo', '--help']);
  assert.equal(result.code, 0);
  const help = result.stdout.toString();
  for (const flag of [
    '--delay',
    '--jitter',
    '--throttle',
    '--slice',
    '--reset-after',
    '--close-after',
    '--loss',
    '--duplicate',
    '--seed',
  ]) {
    assert.match(help, new RegExp(`${flag} <`), flag);
  }
  assert.match(help, /sockkit echo udp:\/\/127\.0\.0\.1:0 --loss 5% --duplicate 1% --seed 42/);
});

test('serve echo takes the fault flags as echo does; another service refuses them', T, async () => {
  const server = await startCli(['serve', 'echo', 'tcp://127.0.0.1:0', '--close-after', '10', '--seed', '3']);
  const { host, port } = hostPort(server.urls[0] as string);
  const outcome = await talk(connectTcp({ host, port }), Buffer.alloc(50, 'b'));
  assert.equal(outcome.received.length, 10);
  const result = await server.stop();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^sockkit: faults injected: 1 connection closed \(seed 3\)$/m);
  const other = await runCli(['serve', 'chargen', 'tcp://127.0.0.1:0', '--delay', '1s']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^sockkit: chargen: faults are injected into the echo service only/);
});

test(
  'forward --close-after 100 through to an echo: the client reads 100 bytes, then EOF; the summary counts it',
  T,
  async () => {
    const echo = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const fwd = await startCli([
      'forward',
      'tcp://127.0.0.1:0',
      echo.urls[0] as string,
      '--close-after',
      '100',
      '--seed',
      '7',
    ]);
    const { host, port } = hostPort(fwd.urls[0] as string);
    // 60 bytes up and 40 of their echo down make the 100.
    const outcome = await talk(connectTcp({ host, port }), Buffer.alloc(60, 'a'));
    assert.equal(outcome.end, 'eof');
    assert.equal(outcome.received.length, 40);
    const [result] = await Promise.all([fwd.stop(), echo.stop()]);
    assert.equal(result.code, 0);
    assert.match(
      result.stderr,
      /^sockkit: injecting faults: close after 100 bytes \(seed 7; --seed 7 repeats them\)$/m,
    );
    assert.match(result.stderr, /^sockkit: forwarded 1 client, /m);
    assert.match(result.stderr, /^sockkit: faults injected: 1 connection closed \(seed 7\)$/m);
  },
);

test('forward udp takes --duplicate: each datagram is doubled each way, and counted', T, async () => {
  const echo = await startCli(['echo', 'udp://127.0.0.1:0']);
  const fwd = await startCli(['forward', 'udp://127.0.0.1:0', echo.urls[0] as string, '--duplicate', '100%']);
  const conn = await dialPacket(parseAddress(fwd.urls[0] as string));
  const replies: string[] = [];
  const fourReplies = new Promise<void>((resolve) =>
    conn.onMessage((data) => {
      replies.push(data.toString());
      if (replies.length === 4) resolve();
    }),
  );
  conn.write(Buffer.from('twice'));
  // Duplicated on its way to the echo, and each echo duplicated on its way back.
  await fourReplies;
  await conn.close();
  const [result] = await Promise.all([fwd.stop(), echo.stop()]);
  assert.deepEqual(replies, ['twice', 'twice', 'twice', 'twice']);
  assert.match(result.stderr, /^sockkit: faults injected: 3 datagrams duplicated \(seed \d+\)$/m);
});
