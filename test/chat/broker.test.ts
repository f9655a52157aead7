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
