/**
 * Netcat habits get the sockkit spelling in their usage error, on one line: the translation
 * itself (netcatHint, pure), and the error lines of the real command line, through both of its
 * usage paths (commander's, and the library's address errors).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { netcatHint } from '../../src/cli/netcat-habits.js';
import { runCli } from '../helpers.js';

const hint = (line: string): string | undefined => netcatHint(line.split(' '));

test('HOST PORT becomes one URL, for connect and send', () => {
  assert.equal(hint('connect 127.0.0.1 9000'), 'sockkit connect tcp://127.0.0.1:9000');
  assert.equal(hint('connect ::1 9000'), 'sockkit connect tcp://[::1]:9000');
  assert.equal(hint('127.0.0.1 9000'), 'sockkit connect tcp://127.0.0.1:9000');
  assert.equal(hint('send 127.0.0.1 9000 hi'), 'sockkit send tcp://127.0.0.1:9000 hi');
  assert.equal(hint('connect -u 127.0.0.1 53'), 'sockkit connect udp://127.0.0.1:53');
});

test('-l, -p and a bare port become listen with a loopback URL (safe to paste)', () => {
  assert.equal(hint('listen 9000'), 'sockkit listen tcp://127.0.0.1:9000');
  assert.equal(hint('listen :9000'), 'sockkit listen tcp://127.0.0.1:9000');
  assert.equal(hint('listen -l -p 9000'), 'sockkit listen tcp://127.0.0.1:9000');
  assert.equal(hint('-l -p 9000'), 'sockkit listen tcp://127.0.0.1:9000');
  assert.equal(hint('-lvp 9000'), 'sockkit listen tcp://127.0.0.1:9000 --trace');
  assert.equal(hint('-lk -p 9000'), 'sockkit listen tcp://127.0.0.1:9000 --keep-open');
  assert.equal(hint('-u -l 5000'), 'sockkit listen udp://127.0.0.1:5000');
  assert.equal(hint('-l 0.0.0.0 9000'), 'sockkit listen tcp://0.0.0.0:9000');
});

test('-z is scan, -v is --trace, -e and -c are --exec and --sh', () => {
  assert.equal(hint('-z 127.0.0.1 20-25'), 'sockkit scan 127.0.0.1 20-25');
  assert.equal(hint('-zu 127.0.0.1 53'), 'sockkit scan 127.0.0.1 53 -u');
  assert.equal(hint('connect tcp://127.0.0.1:7 -v'), 'sockkit connect tcp://127.0.0.1:7 --trace');
  assert.equal(
    hint('connect 127.0.0.1 9000 -e /bin/cat'),
    'sockkit connect tcp://127.0.0.1:9000 --exec /bin/cat',
  );
  assert.deepEqual(
    netcatHint(['-c', 'cat -n', '127.0.0.1', '9000']),
    "sockkit connect tcp://127.0.0.1:9000 --sh 'cat -n'",
  );
});

test('netcat letters sockkit shares are carried over: -s, -p, -w, -q, -4', () => {
  assert.equal(
    hint('-s 127.0.0.2 -p 4000 -w 2 -q 1 -4 localhost 9000'),
    'sockkit connect tcp://localhost:9000 -s 127.0.0.2 -p 4000 -q 1 -w 2 -4',
  );
});

test('no hint where the words are not a netcat habit', () => {
  assert.equal(hint('connect tcp://127.0.0.1:1 --bogus'), undefined);
  assert.equal(hint('connect tcp://127.0.0.1:1 -4'), undefined);
  assert.equal(hint('bench 127.0.0.1 9000'), undefined);
  assert.equal(hint('connect localhost:80'), undefined);
  assert.equal(hint('connect -x 127.0.0.1 9000'), undefined);
  assert.equal(hint('scan -4 -6 ::1 80'), undefined);
  assert.equal(hint('connect -6 -4 tcp://localhost:7'), undefined);
});

test('-q is carried over to listen where sockkit takes it, and dropped where -k or -e make it mean nothing', () => {
  assert.equal(hint('-l -q 1 -p 9000'), 'sockkit listen tcp://127.0.0.1:9000 -q 1');
  assert.equal(hint('-lk -q 1 -p 9000'), 'sockkit listen tcp://127.0.0.1:9000 --keep-open');
  assert.equal(hint('-l -q 1 -p 9000 -e cat'), 'sockkit listen tcp://127.0.0.1:9000 --exec cat');
});

test("a command's own letters (listen -k, -e, -c; connect -e) and scan's bare ports are no netcat habit", () => {
  assert.equal(hint('listen tcp://127.0.0.1:0 -q 1 -k'), undefined);
  assert.equal(hint('listen tcp://127.0.0.1:0 -k -e cat --bogus'), undefined);
  assert.equal(hint('connect tcp://127.0.0.1:7 -c cat --bogus'), undefined);
  assert.equal(hint('scan 127.0.0.1 9 --tls --ca /tmp/ca.pem'), undefined);
});

/** expectLines runs each command line at once and checks its whole stderr and exit 2. */
async function expectLines(cases: readonly [string[], string][]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  for (const [i, [args, line]] of cases.entries()) {
    const result = results[i] as Awaited<ReturnType<typeof runCli>>;
    assert.equal(result.code, 2, args.join(' '));
    assert.equal(result.stderr, `${line}\n`);
  }
}

test("a command's usage error ends with the sockkit spelling, one line, exit 2", {
  timeout: 10_000,
}, async () => {
  await expectLines([
    [
      ['connect', '127.0.0.1', '9000'],
      "sockkit: connect: too many arguments for 'connect'. Expected 1 argument but got 2; did you mean: sockkit connect tcp://127.0.0.1:9000",
    ],
    [
      ['listen', '9000'],
      'sockkit: address "9000": missing scheme (expected tcp://, udp://, tls://, unix:, ws:// or wss://); did you mean: sockkit listen tcp://127.0.0.1:9000',
    ],
  ]);
});

test('listen -q with -k is refused in its own words, with no netcat hint that drops -q', {
  timeout: 10_000,
}, async () => {
  await expectLines([
    [
      ['listen', 'tcp://127.0.0.1:0', '-q', '1', '-k'],
      'sockkit: listen: --quit-after-eof ends the one client relayed to stdin and stdout, not --keep-open',
    ],
  ]);
});

test("netcat's mode flags without a command get the command to use", { timeout: 10_000 }, async () => {
  await expectLines([
    [['-l', '-p', '9000'], "sockkit: unknown option '-l'; did you mean: sockkit listen tcp://127.0.0.1:9000"],
    [['-z', '127.0.0.1', '80'], "sockkit: unknown option '-z'; did you mean: sockkit scan 127.0.0.1 80"],
  ]);
});
