import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Broker } from '../../src/chat/broker.js';
import type { ChatClient, ChatPeer } from '../../src/chat/chat-client.js';
import { MemoryHub } from '../../src/chat/hub.js';

/** TextPeer is a ChatPeer that keeps the lines it is sent: the broker needs no socket to be tested. */
class TextPeer implements ChatPeer {
  readonly label: string;
  readonly lines: string[] = [];
  closedWith: string | undefined;
  constructor(label: string) {
    this.label = label;
  }
  send(line: string): void {
    this.lines.push(line);
  }
  close(farewell?: string): void {
    this.closedWith = farewell ?? '';
  }
  last(): string | undefined {
    return this.lines.at(-1);
  }
}

/** admitted asserts that the broker let a client in, and returns it. */
function admitted(client: ChatClient | undefined): ChatClient {
  assert.ok(client, 'the broker turned the client away');
  return client;
}

describe('Broker', () => {
  test('names clients guest1, guest2, ... and welcomes them into the default room', async () => {
    const broker = await Broker.start({ room: '#home' });
    const a = new TextPeer('a');
    const b = new TextPeer('b');
    const ca = admitted(await broker.connect(a));
    await broker.connect(b);
    assert.equal(ca.nick, 'guest1');
    assert.deepEqual(a.lines, [
      '* welcome, guest1! /help lists the commands',
      '* guest1 joined #home',
      '* guest2 joined #home',
    ]);
    assert.equal(broker.clients, 2);
  });

  test('keeps nicknames unique regardless of case, but lets a client change its own case', async () => {
    const broker = await Broker.start();
    const a = new TextPeer('a');
    const b = new TextPeer('b');
    const ca = admitted(await broker.connect(a, 'Alice'));
    const cb = admitted(await broker.connect(b, 'alice'));
    assert.equal(cb.nick, 'guest1');
    assert.equal(b.lines[0], '* nick alice is taken; you are guest1');
    await broker.handle(cb, '/nick ALICE');
    assert.equal(b.last(), '* nick ALICE is taken');
    await broker.handle(ca, '/nick alice');
    assert.equal(a.last(), '* Alice is now known as alice');
  });

  test('answers a message sent outside any room, and an unknown private recipient', async () => {
    const broker = await Broker.start();
    const a = new TextPeer('a');
    const client = admitted(await broker.connect(a));
    await broker.handle(client, '/part');
    assert.equal(a.last(), '* you left #lobby; /join #ROOM to enter another');
    await broker.handle(client, 'anyone?');
    assert.equal(a.last(), '* you are in no room; /join #ROOM first');
    await broker.handle(client, '/msg ghost boo');
    assert.equal(a.last(), '* no such nick: ghost');
  });

  test('turns away a client past maxClients, with a reason, and counts it', async () => {
    const broker = await Broker.start({ maxClients: 1 });
    await broker.connect(new TextPeer('a'));
    const late = new TextPeer('b');
    assert.equal(await broker.connect(late), undefined);
    assert.equal(late.closedWith, '* server full (1 clients); try again later');
    assert.equal(broker.stats.rejected, 1);
  });

  test('tells the client, not the server, when the hub fails', async () => {
    class FailingHub extends MemoryHub {
      failing = false;
      override async publish(event: Parameters<MemoryHub['publish']>[0]): Promise<void> {
        if (this.failing) throw new Error('redis: connection lost');
        return super.publish(event);
      }
    }
    const hub = new FailingHub();
    const broker = await Broker.start({ hub });
    const a = new TextPeer('a');
    const client = admitted(await broker.connect(a));
    hub.failing = true;
    assert.equal(await broker.handle(client, 'hello'), undefined);
    assert.equal(a.last(), '* error: redis: connection lost; try again');
    await broker.disconnect(client, 'bye'); // does not throw either
  });

  test('refuses an invalid first nick as /nick refuses it, and names the client a guest', async () => {
    const broker = await Broker.start();
    const watcher = new TextPeer('w');
    await broker.connect(watcher);
    const refusal = '* invalid nick "9lives" (a letter, then up to 19 letters, digits, _ or -)';
    const c = admitted(await broker.connect(new TextPeer('c')));
    await broker.handle(c, '/nick 9lives');
    assert.equal((c.peer as TextPeer).last(), refusal);
    for (const nick of ['9lives', 'a\n* server: restart', `evil\x1b[2J`, 'n'.repeat(8000)]) {
      const peer = new TextPeer('p');
      const client = admitted(await broker.connect(peer, nick));
      assert.match(client.nick, /^guest\d+$/);
      assert.match(
        peer.lines[0] as string,
        /^\* invalid nick ".*" \(a letter, then up to 19 letters, digits, _ or -\); you are guest\d+$/,
      );
      assert.ok((peer.lines[0] as string).length < 120);
    }
    assert.equal(watcher.lines.filter((l) => l.includes('joined')).length, 6); // itself, c, and the four
    assert.ok(
      watcher.lines.every((l) => /^\* (welcome, guest1!|guest\d+ joined #lobby)/.test(l)),
      watcher.lines.join('\n'),
    );
  });

  test('refuses invalid names in /join, /who and /msg with the same words', async () => {
    const broker = await Broker.start();
    const a = new TextPeer('a');
    const client = admitted(await broker.connect(a));
    await broker.handle(client, '/join #a\x1b[2J');
    assert.equal(a.last(), '* invalid room "#a\\u001b[2J" (# then 1 to 30 letters, digits, _ or -)');
    await broker.handle(client, '/who #x/y');
    assert.equal(a.last(), '* invalid room "#x/y" (# then 1 to 30 letters, digits, _ or -)');
    await broker.handle(client, '/msg b\u009bc hi');
    assert.equal(a.last(), '* invalid nick "b<U+009B>c" (a letter, then up to 19 letters, digits, _ or -)');
    await broker.handle(client, '/join rust');
    assert.equal(a.last(), '* guest1 joined #rust');
    assert.equal(client.room, '#rust');
  });

  test('refuses an invalid default room at start', async () => {
    await assert.rejects(Broker.start({ room: 'a b' }), {
      name: 'RangeError',
      message: 'room: invalid room "a b" (# then 1 to 30 letters, digits, _ or -)',
    });
    assert.equal((await Broker.start({ room: 'home' })).room, '#home');
  });

  test('drops hub events that break the rules, with one log line each, and delivers the rest printable', async () => {
    const log: string[] = [];
    const broker = await Broker.start({ log: (line) => log.push(line) });
    const a = new TextPeer('a');
    await broker.connect(a);
    const hub = broker.hub as unknown as { publish(event: unknown): Promise<void> };
    await hub.publish({ kind: 'say', room: '#lobby', from: 'x\n* server', text: 'forged' });
    await hub.publish({ kind: 'join', room: '#lobby\x1b', nick: 'ok' });
    await hub.publish({ kind: 'say', room: '#lobby', from: 'ok', text: { not: 'text' } });
    await hub.publish({ kind: 'toString' });
    await hub.publish(null);
    await hub.publish({ kind: 'say', room: '#lobby', from: 'ok', text: 'fine\x1b]52;c;Zm9v\x07\r' });
    assert.equal(a.last(), '<ok> fine^[]52;c;Zm9v^G^M');
    assert.equal(a.lines.filter((l) => l.startsWith('<')).length, 1);
    assert.deepEqual(log.slice(-5), [
      'ignored an event from the hub: invalid nick "x\\n* server" (a letter, then up to 19 letters, digits, _ or -)',
      'ignored an event from the hub: invalid room "#lobby\\u001b" (# then 1 to 30 letters, digits, _ or -)',
      'ignored an event from the hub: say event: text is not text',
      'ignored an event from the hub: unknown kind of event',
      'ignored an event from the hub: not an event',
    ]);
  });

  test('drops a peer that throws alone, with one log line, and the room keeps talking', async () => {
    const log: string[] = [];
    const broker = await Broker.start({ log: (line) => log.push(line) });
    class BrokenPeer extends TextPeer {
      override send(line: string): void {
        if (line.startsWith('<')) throw new TypeError('the transport broke');
        super.send(line);
      }
    }
    const broken = new BrokenPeer('broken');
    const a = new TextPeer('a');
    const b = new TextPeer('b');
    const cb = admitted(await broker.connect(broken, 'broken'));
    const ca = admitted(await broker.connect(a, 'alice'));
    await broker.connect(b, 'bob');
    await broker.handle(ca, 'hello');
    assert.ok(b.lines.includes('<alice> hello'), b.lines.join('\n'));
    assert.equal(broken.closedWith, '* error: internal error; closing');
    assert.equal(cb.left, true);
    await broker.handle(ca, 'still here');
    assert.ok(b.lines.includes('* broken left #lobby (internal error)'), b.lines.join('\n'));
    assert.ok(b.lines.includes('<alice> still here'), b.lines.join('\n'));
    assert.deepEqual(
      log.filter((l) => l.startsWith('broken disconnected')),
      ['broken disconnected: internal error (the transport broke)'],
    );
    assert.equal(broker.clients, 2);
  });

  test('keeps a log that throws from failing the chat, and logs only printable lines', async () => {
    const log: string[] = [];
    const broker = await Broker.start({
      log: (line) => {
        if (line.includes('connected from')) throw new Error('disk full');
        log.push(line);
      },
    });
    const a = new TextPeer('a');
    const client = admitted(await broker.connect(a));
    await broker.handle(client, '/quit bye\x1b[2J\u009b');
    assert.deepEqual(log, ['guest1 disconnected: quit: bye^[[2J<U+009B>']);
  });

  test('leaves once: a second disconnect does nothing', async () => {
    const broker = await Broker.start();
    const a = new TextPeer('a');
    const b = new TextPeer('b');
    const ca = admitted(await broker.connect(a));
    await broker.connect(b);
    await broker.disconnect(ca, 'gone');
    await broker.disconnect(ca, 'gone again');
    assert.deepEqual(
      b.lines.filter((l) => l.includes('left')),
      ['* guest1 left #lobby (gone)'],
    );
    assert.equal(await broker.handle(ca, 'still there?'), 'quit');
  });
});
