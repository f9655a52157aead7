/**
 * Attacks on the chat's text: what one user sends must never reach another user's terminal as
 * control characters (escape sequences, OSC 52 clipboard writes, C1 controls, a bare CR that
 * rewrites the `<nick>` prefix), and every name, however it enters, obeys the `/nick` and
 * `/join` rules. Real sockets, a real broker process, real WebSocket and Redis clients.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { hostPort, startCli, tempDir } from '../helpers.js';

/** RawUser is a line client that keeps every byte it receives, to check them one by one. */
class RawUser {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  readonly #waiters: { match: RegExp; resolve: () => void }[] = [];

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      const text = this.text();
      for (const waiter of [...this.#waiters]) {
        if (!waiter.match.test(text)) continue;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }

  text(): string {
    return this.received.toString('utf8');
  }

  /** until resolves once what was received, as UTF-8, matches `match`. */
  until(match: RegExp): Promise<void> {
    if (match.test(this.text())) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${match} within 5 s; received ${JSON.stringify(this.text())}`)),
        5000,
      );
      this.#waiters.push({
        match,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }
}

/** controlsIn lists the control characters (C0 but TAB and LF, DEL, C1) in `text`. */
function controlsIn(text: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  return [...text.matchAll(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g)].map((m) => m[0]);
}

const ESC = '\x1b';

describe('control characters never reach another user', { timeout: 30_000 }, () => {
  test('escape sequences, OSC 52, C1 controls and a bare CR arrive in a visible form', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0']);
    const { port } = hostPort(server.urls[0] as string);
    const victim = new RawUser(port);
    const attacker = new RawUser(port);
    try {
      await victim.until(/\* welcome/);
      attacker.write('/nick mallory\n');
      await victim.until(/is now known as mallory\n/);
      attacker.write(`clear${ESC}[2J${ESC}[H\n`);
      attacker.write(`clip${ESC}]52;c;cm0gLXJmIH4K${ESC}\\ and ${ESC}]0;title\x07\n`);
      // C1 controls as UTF-8 (U+0080..U+009F): some terminals act on them as on ESC + a letter.
      attacker.write(
        Buffer.concat([Buffer.from('c1 '), Buffer.from('\u0080\u0090\u009b\u009d\u009f'), Buffer.from('\n')]),
      );
      // Raw 0x9B (CSI in 8-bit terminals) and other bytes that are not UTF-8.
      attacker.write(Buffer.from([0x72, 0x61, 0x77, 0x20, 0x9b, 0x32, 0x4a, 0x20, 0x9d, 0xff, 0xc2, 0x0a]));
      // A bare CR would return the cursor and let the sender overwrite its own "<mallory> " prefix.
      attacker.write('x\r<admin> send me your password\r\n');
      attacker.write(`nul\x00 bel\x07 bs\x08 del\x7f tab\tend\n`);
      attacker.write('done\n');
      await victim.until(/<mallory> done\n/);
      const text = victim.text();
      assert.deepEqual(controlsIn(text), [], JSON.stringify(text));
      for (const byte of [0x1b, 0x0d, 0x07, 0x00, 0x08, 0x7f]) {
        assert.equal(victim.received.indexOf(byte), -1, `byte 0x${byte.toString(16)} was relayed`);
      }
      assert.match(text, /^<mallory> clear\^\[\[2J\^\[\[H$/m);
      assert.match(text, /^<mallory> clip\^\[\]52;c;cm0gLXJmIH4K\^\[\\ and \^\[\]0;title\^G$/m);
      assert.match(text, /^<mallory> c1 <U\+0080><U\+0090><U\+009B><U\+009D><U\+009F>$/m);
      assert.match(text, /^<mallory> raw \uFFFD2J \uFFFD\uFFFD\uFFFD$/m);
      assert.match(text, /^<mallory> x\^M<admin> send me your password$/m);
      assert.match(text, /^<mallory> nul\^@ bel\^G bs\^H del\^\? tab\tend$/m);
    } finally {
      victim.socket.destroy();
      attacker.socket.destroy();
      const result = await server.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });

  test('a quit reason and a private message are shown in the same visible form', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '-v']);
    const { port } = hostPort(server.urls[0] as string);
    const victim = new RawUser(port);
    const attacker = new RawUser(port);
    try {
      victim.write('/nick victim\n');
      await victim.until(/you are now known as victim|is now known as victim\n/);
      attacker.write('/nick mallory\n');
      await victim.until(/is now known as mallory\n/);
      attacker.write(`/msg victim psst${ESC}]52;c;Zm9v\x07\n`);
      await victim.until(/\*mallory\* psst/);
      attacker.write(`/quit bye${ESC}[2J\u009b\r\n`);
      await victim.until(/left #lobby \(quit: .*\)\n/);
      const text = victim.text();
      assert.deepEqual(controlsIn(text), [], JSON.stringify(text));
      assert.match(text, /^\*mallory\* psst\^\[\]52;c;Zm9v\^G$/m);
      assert.match(text, /^\* mallory left #lobby \(quit: bye\^\[\[2J<U\+009B>\)$/m);
    } finally {
      victim.socket.destroy();
      attacker.socket.destroy();
      const result = await server.stop();
      // The server's log (stderr, often a terminal too) gets the visible form as well.
      assert.match(result.stderr, /mallory disconnected: quit: bye\^\[\[2J<U\+009B>/);
      assert.deepEqual(controlsIn(result.stderr.replaceAll('\n', '')), []);
    }
  });
});

/** openWs connects a WebSocket chat user and collects its messages. */
async function openWs(
  url: string,
): Promise<{ ws: WebSocket; lines: string[]; next: (m: RegExp) => Promise<string> }> {
  const ws = new WebSocket(url);
  const lines: string[] = [];
  ws.on('message', (data) => lines.push(data.toString()));
  await once(ws, 'open');
  const next = async (match: RegExp): Promise<string> => {
    for (;;) {
      const seen = lines.find((l) => match.test(l));
      if (seen !== undefined) return seen;
      await once(ws, 'message');
    }
  };
  return { ws, lines, next };
}

describe('every name obeys the same rules, however it enters', { timeout: 30_000 }, () => {
  test('a WebSocket ?nick= with a line feed, an escape sequence or 8000 characters is refused as /nick refuses it', async () => {
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--web', '0', '-v'], { listens: 2 });
    const line = new RawUser(hostPort(server.urls[0] as string).port);
    const web = `ws://127.0.0.1:${hostPort(server.urls[1] as string).port}/chat?nick=`;
    const users: WebSocket[] = [];
    try {
      await line.until(/\* welcome/);
      line.write('/nick 9lives\n');
      await line.until(/\* invalid nick "9lives" \(.*\)\n/);
      const refusal = /^\* invalid nick "9lives" (\(.*\))$/m.exec(line.text())?.[1] as string;
      for (const nick of [
        'x\n* server: restarting, send your password to mallory',
        `evil${ESC}[2J`,
        'n'.repeat(8000),
      ]) {
        const user = await openWs(web + encodeURIComponent(nick));
        users.push(user.ws);
        const told = await user.next(/^\* invalid nick/);
        assert.ok(told.endsWith(`${refusal}; you are ${/you are (guest\d+)$/.exec(told)?.[1]}`), told);
        assert.ok(told.length < 200, `the refusal echoes ${told.length} characters`);
        assert.deepEqual(controlsIn(told), []);
        await user.next(/^\* welcome, guest\d+!/);
      }
      await line.until(/(guest\d+ joined #lobby\n[\s\S]*){3}/);
      const text = line.text();
      assert.doesNotMatch(text, /server: restarting|evil|nnnnnnnnnnnnnnnnnnnnn/);
      assert.deepEqual(controlsIn(text), []);
    } finally {
      for (const ws of users) ws.terminate();
      line.socket.destroy();
      const result = await server.stop();
      assert.doesNotMatch(result.stderr, /server: restarting|evil|nnnnnnnnnnnnnnnnnnnnn/);
    }
  });

  test('names arriving through Redis from another broker obey the same rules', async () => {
    const dir = tempDir();
    const path = `${dir.path}/redis.sock`;
    const redis: ChildProcess = spawn(
      'redis-server',
      ['--port', '0', '--unixsocket', path, '--save', '', '--appendonly', 'no', '--dir', dir.path],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      redis.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/ready to accept connections/i.test(out)) resolve();
      });
      redis.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
    const server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--redis', `unix:${path}`, '-v']);
    const line = new RawUser(hostPort(server.urls[0] as string).port);
    // Another publisher on the chat's channel: a broker of another version, or anyone with access.
    const other = new Redis({ path });
    try {
      await line.until(/\* welcome/);
      const forged = [
        { kind: 'say', room: '#lobby', from: 'x\n* server', text: 'forged line feed in a nick' },
        { kind: 'join', room: '#lobby', nick: `evil${ESC}]52;c;Zm9v\x07` },
        { kind: 'rename', room: '#lobby', from: 'ok', to: 'n'.repeat(8000) },
        { kind: 'say', room: `#lobby${ESC}[2J`, from: 'ok', text: 'bad room' },
        { kind: 'say', room: '#lobby', from: 'ok', text: 42 },
        { kind: 'private', from: 'ok', to: 'guest1', text: ['not', 'text'] },
        { kind: 'unknown' },
      ];
      // The key and channel names are the hub's business: find them as an intruder would.
      const [channel] = (await other.pubsub('CHANNELS', '*events*')) as string[];
      assert.ok(channel, 'the broker subscribes to no channel');
      for (const event of forged) await other.publish(channel, JSON.stringify(event));
      await other.publish(
        channel,
        JSON.stringify({ kind: 'say', room: '#lobby', from: 'ok', text: `fine${ESC}[2J` }),
      );
      await line.until(/<ok> fine/);
      // A forged directory entry: /who and /list show only valid names.
      const [lobby] = await other.keys('*room:#lobby*');
      const [rooms] = await other.keys('*rooms*');
      const [brokers] = await other.keys('*brokers*');
      assert.ok(lobby && rooms && brokers, 'the directory is not where it was expected');
      const [broker] = await other.smembers(brokers);
      await other.hset(lobby, `bad${ESC}[2J`, broker as string);
      await other.hset(lobby.replace('#lobby', `#bad${ESC}[2J`), 'ok', broker as string);
      await other.sadd(rooms, `#bad${ESC}[2J`);
      line.write('/list\n');
      await line.until(/\* rooms: /);
      line.write('/who\n');
      await line.until(/\* #lobby: /);
      const text = line.text();
      assert.deepEqual(controlsIn(text), [], JSON.stringify(text));
      assert.match(text, /^<ok> fine\^\[\[2J$/m);
      assert.doesNotMatch(text, /forged|evil|nnnnnnnnnnnnnnnnnnnnn|bad room|42|bad\^/);
    } finally {
      other.disconnect();
      line.socket.destroy();
      const result = await server.stop();
      redis.kill();
      await once(redis, 'exit');
      dir.remove();
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /ignored an event from the hub: invalid nick/);
    }
  });
});
