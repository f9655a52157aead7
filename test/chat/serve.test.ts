import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostPort, type Running, runCli, startCli, tempDir } from '../helpers.js';
import { LineUser } from './line-user.js';

describe('sockkit chat serve, with ncat users', { timeout: 30_000 }, () => {
  let server: Running;
  let port: number;
  before(async () => {
    server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--max-line', '64', '-v']);
    port = hostPort(server.urls[0] as string).port;
  });
  after(async () => {
    const result = await server.stop();
    assert.equal(result.code, 0, result.stderr);
  });

  test('two users pick nicks, talk, whisper, change rooms and quit, with notices for each', async () => {
    const alice = LineUser.ncat('127.0.0.1', String(port));
    await alice.next(/^\* welcome, guest\d+!/);
    alice.say('/nick alice');
    await alice.next(/is now known as alice$/);
    const bob = LineUser.ncat('127.0.0.1', String(port));
    await bob.next(/^\* welcome/);
    bob.say('/nick bob');
    await alice.next(/^\* guest\d+ is now known as bob$/);

    alice.say('hello, bob');
    assert.equal(await bob.next(/^<alice>/), '<alice> hello, bob');
    bob.say('/who');
    assert.equal(await bob.next(/^\* #lobby:/), '* #lobby: alice, bob');
    bob.say('/msg alice just between us');
    assert.equal(await alice.next(/^\*bob\*/), '*bob* just between us');
    assert.equal(await bob.next(/^-> /), '-> *alice* just between us');

    bob.say('/join #rust');
    assert.equal(await alice.next(/^\* bob left/), '* bob left #lobby (joined #rust)');
    await bob.next(/^\* bob joined #rust$/);
    bob.say('/list');
    assert.equal(await bob.next(/^\* rooms:/), '* rooms: #lobby (1), #rust (1)');
    bob.say('/msg nobody hi');
    await bob.next(/^\* no such nick: nobody$/);
    bob.say('/nick alice');
    await bob.next(/^\* nick alice is taken$/);

    bob.say('/quit gone fishing');
    await bob.next(/^\* bye, bob$/);
    bob.quit(); // ncat exits on the end of its stdin, not on the server's FIN
    alice.say('/who #rust');
    assert.equal(await alice.next(/^\* #rust:/), '* #rust: nobody');
    alice.quit();
    await alice.closed;
    assert.match(server.stderr(), /chat: bob disconnected: quit: gone fishing/);
  });

  test('a line over --max-line closes only its sender, who is told why', async () => {
    const carol = LineUser.ncat('127.0.0.1', String(port));
    const dave = LineUser.ncat('127.0.0.1', String(port));
    await carol.next(/^\* welcome/);
    await dave.next(/^\* welcome/);
    carol.say('x'.repeat(100));
    assert.equal(await carol.next(/^\* error/), '* error: line too long (over 64 bytes); closing');
    carol.quit();
    assert.match(
      await dave.next(/left #lobby \(line too long/),
      /^\* guest\d+ left #lobby \(line too long \(over 64 bytes\)\)$/,
    );
    dave.say('still here');
    dave.say('/who');
    assert.match(await dave.next(/^\* #lobby:/), /^\* #lobby: guest\d+$/);
    dave.quit();
    await dave.closed;
  });

  test('a client sending bytes that are not UTF-8 or control characters cannot harm the server', async () => {
    const eve = LineUser.socket('127.0.0.1', port);
    const frank = LineUser.socket('127.0.0.1', port);
    await eve.next(/^\* welcome/);
    await frank.next(/^\* welcome/);
    eve.send('\u0000\u001b[2J\r\n');
    eve.send(Buffer.from([0xff, 0xfe, 0x0a])); // not UTF-8: sent as these three bytes
    eve.send(Buffer.from([0x9b, 0x32, 0x4a, 0xc3, 0x0a])); // a raw CSI, and a truncated sequence
    eve.say('/nick');
    await eve.next(/^\* usage: \/nick NAME$/);
    frank.say('/who');
    await frank.next(/^\* #lobby:/);
    assert.match(await frank.next(/> \^@/), /^<guest\d+> \^@\^\[\[2J$/);
    assert.match(await frank.next(/> \uFFFD\uFFFD$/), /^<guest\d+> \uFFFD\uFFFD$/);
    assert.match(await frank.next(/> \uFFFD2J/), /^<guest\d+> \uFFFD2J\uFFFD$/);
    eve.quit();
    frank.quit();
  });
});

describe('sockkit chat serve limits', { timeout: 30_000 }, () => {
  test('--max-clients turns the next client away with a reason', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--max-clients', '1']);
    const { port } = hostPort(server.urls[0] as string);
    const first = LineUser.socket('127.0.0.1', port);
    await first.next(/^\* welcome/);
    const second = LineUser.socket('127.0.0.1', port);
    assert.equal(await second.next(/^\*/), '* server full (1 clients); try again later');
    await second.closed;
    first.quit();
    const result = await server.stop();
    assert.match(result.stderr, /1 turned away/);
  });

  test('flood control slows a fast sender without dropping or reordering its lines', async () => {
    const server = await startCli([
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--flood-rate',
      '200',
      '--flood-burst',
      '5',
    ]);
    const { port } = hostPort(server.urls[0] as string);
    const reader = LineUser.socket('127.0.0.1', port);
    await reader.next(/^\* welcome/);
    const flooder = LineUser.socket('127.0.0.1', port);
    await reader.next(/joined #lobby$/);
    flooder.send(Array.from({ length: 60 }, (_, i) => `line ${i}\n`).join(''));
    await reader.next(/> line 59$/);
    const got = reader.lines.filter((l) => / line \d+$/.test(l)).map((l) => l.replace(/^<\w+> /, ''));
    assert.deepEqual(
      got,
      Array.from({ length: 60 }, (_, i) => `line ${i}`),
    );
    reader.quit();
    flooder.quit();
    await server.stop();
  });

  test('a client that never reads is disconnected as too slow, and the room keeps talking', async (t) => {
    const server = await startCli([
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--max-queue',
      '64KiB',
      '--flood-rate',
      '0',
      '--max-line',
      '2KiB',
      '-v',
    ]);
    const { port } = hostPort(server.urls[0] as string);
    const reader = LineUser.socket('127.0.0.1', port);
    const talker = LineUser.socket('127.0.0.1', port);
    await reader.next(/^\* welcome/);
    await talker.next(/^\* welcome/);
    talker.say('/nick talker');
    const slow = LineUser.socket('127.0.0.1', port);
    slow.say('/nick slow');
    await reader.next(/is now known as slow$/);
    slow.pause();
    // Talk until the slow client's queue overflows: the kernel's buffers fill first (a few MiB on
    // loopback), then its queue. The talker waits for the reader every 200 lines, so the room is
    // never ahead of its fast members. Bounded: at most 40 000 lines of 1 KB.
    const line = 'x'.repeat(1000);
    const dropNotice = reader.next(/^\* slow left #lobby \(too slow/, 60_000);
    let dropped = false;
    dropNotice.then(
      () => {
        dropped = true;
      },
      () => {},
    );
    let sent = 0;
    while (!dropped && sent < 40_000) {
      await talker.sayAndWait(`${sent} ${line}`);
      sent++;
      if (sent % 200 === 0) {
        await reader.next(new RegExp(`^<talker> ${sent - 1} `), 10_000);
        reader.lines.length = 0; // keep the test's memory small
      }
    }
    await dropNotice;
    t.diagnostic(`the slow client was dropped after about ${sent} lines of 1 KB`);
    // The room carries on: the next line still arrives.
    talker.say('after the slow one left');
    await reader.next(/^<talker> after the slow one left$/, 20_000);
    const result = await server.stop();
    assert.match(result.stderr, /chat: slow disconnected: too slow: [\d.]+ KiB queued for it/);
  });
});

describe('sockkit chat serve on a Unix socket, and sockkit chat join', { timeout: 30_000 }, () => {
  test('a chat join client from a script and an ncat user talk over a Unix socket', async () => {
    const dir = tempDir();
    const url = `unix:${dir.path}/chat.sock`;
    const server = await startCli(['chat', 'serve', url, '-v']);
    const watcher = LineUser.ncat('-U', `${dir.path}/chat.sock`);
    watcher.say('/nick watcher');
    await watcher.next(/is now known as watcher$/);
    const joined = await runCli(['chat', 'join', url, '--nick', 'scripter'], {
      input: 'hello from a script\n/quit\n',
    });
    assert.equal(joined.code, 0, joined.stderr);
    const out = joined.stdout.toString();
    assert.match(out, /^\* guest\d+ is now known as scripter$/m);
    assert.match(out, /^\* bye, scripter$/m);
    assert.equal(await watcher.next(/^<scripter>/), '<scripter> hello from a script');
    watcher.say('/who');
    assert.equal(await watcher.next(/^\* #lobby:/), '* #lobby: watcher');
    watcher.quit();
    const stopped = await server.stop();
    // A Unix client has no address of its own: the log names the socket and the connection.
    assert.match(
      stopped.stderr,
      new RegExp(`guest\\d+ connected from unix peer #\\d+ on unix:${dir.path}/chat\\.sock$`, 'm'),
    );
    assert.doesNotMatch(stopped.stderr, /connected from unix:$/m);
    dir.remove();
  });

  test('chat join does not send a line over --max-line: one line on stderr, and the session goes on', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0']);
    const url = server.urls[0] as string;
    const watcher = LineUser.socket('127.0.0.1', hostPort(url).port);
    try {
      watcher.say('/nick watcher');
      await watcher.next(/is now known as watcher$/);
      // 5000 bytes: over the server's 4 KiB; 2 MiB: over what chat join's reader once allowed.
      const input = `${'x'.repeat(5000)}\nafter the long one\n${'y'.repeat(2 * 1024 * 1024)}\nand after the longer one\n/quit\n`;
      const joined = await runCli(['chat', 'join', url, '--nick', 'paster'], { input });
      assert.equal(joined.code, 0, joined.stderr);
      assert.equal(
        joined.stderr,
        `sockkit: send ${url}: line of 5,000 bytes exceeds the maximum of 4,096 bytes (--max-line); not sent\n` +
          `sockkit: send ${url}: line of 2,097,152 bytes exceeds the maximum of 4,096 bytes (--max-line); not sent\n`,
      );
      assert.match(joined.stdout.toString(), /^\* bye, paster$/m);
      assert.equal(await watcher.next(/^<paster> after the long/), '<paster> after the long one');
      assert.equal(await watcher.next(/^<paster> and after/), '<paster> and after the longer one');
      assert.equal(await watcher.next(/^\* paster left/), '* paster left #lobby (quit)');
      assert.ok(!watcher.lines.some((l) => l.includes('xxxx') || l.includes('yyyy')));
    } finally {
      watcher.quit();
      await server.stop();
    }
  });

  test('chat join refuses an invalid --nick, or a bad --max-line, as a usage error', async () => {
    const nick = await runCli(['chat', 'join', 'tcp://127.0.0.1:1', '--nick', '9 lives']);
    assert.equal(nick.code, 2);
    assert.equal(
      nick.stderr,
      'sockkit: --nick: invalid nick "9 lives" (a letter, then up to 19 letters, digits, _ or -)\n',
    );
    const feed = await runCli(['chat', 'join', 'tcp://127.0.0.1:1', '--nick', 'a\n/quit']);
    assert.equal(feed.code, 2);
    assert.match(feed.stderr, /^sockkit: --nick: invalid nick "a\\n\/quit"/);
    const max = await runCli(['chat', 'join', 'tcp://127.0.0.1:1', '--max-line', '0']);
    assert.equal(max.code, 2);
    assert.equal(max.stderr, 'sockkit: --max-line: must be from 1B to 16MiB (got 0)\n');
  });

  test('chat join reports a refused connection in one line and exits 1', async () => {
    const result = await runCli(['chat', 'join', 'tcp://127.0.0.1:1', '--nick', 'x']);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      'sockkit: connect tcp://127.0.0.1:1: connection refused (is a server listening there?)\n',
    );
  });

  test('chat serve --web takes the http:// form the server prints its page as', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--web', 'http://127.0.0.1:0/'], {
      listens: 2,
    });
    const result = await server.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^sockkit: web chat at http:\/\/127\.0\.0\.1:\d+\/$/m);
    const elsewhere = await runCli([
      'chat',
      'serve',
      'tcp://127.0.0.1:0',
      '--web',
      'http://127.0.0.1:0/chat',
    ]);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /^sockkit: --web: the page is served at \/ only, not \/chat/);
  });

  test('chat serve refuses a bad room name as a usage error', async () => {
    const result = await runCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--room', 'a b']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sockkit: --room: invalid room "a b"/);
  });
});
