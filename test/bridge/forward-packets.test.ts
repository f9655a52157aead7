/** forward over udp://, read as a specification: one upstream socket per client peer, replies back, idle end. */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { describe, test } from 'node:test';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import { forward } from '../../src/bridge/forward.js';

/** udpEcho answers each datagram with `tag` and the datagram, and keeps the source ports it saw. */
async function udpEcho(tag: string): Promise<{ socket: Socket; url: string; sources: Set<number> }> {
  const socket = createSocket('udp4');
  const sources = new Set<number>();
  socket.on('message', (data, peer) => {
    sources.add(peer.port);
    socket.send(Buffer.concat([Buffer.from(tag), data]), peer.port, peer.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, url: `udp://127.0.0.1:${socket.address().port}`, sources };
}

/** ask sends `text` from `socket` to `to` and resolves with the first reply. */
async function ask(socket: Socket, to: SocketAddress, text: string): Promise<string> {
  const reply = once(socket, 'message');
  socket.send(text, (to as { port: number }).port, '127.0.0.1');
  const [data] = (await reply) as [Buffer];
  return data.toString();
}

async function client(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

describe('forward over udp://', () => {
  test('each client peer gets its own upstream socket, taken round-robin, and its replies', {
    timeout: 10_000,
  }, async () => {
    const [a, b] = [await udpEcho('a:'), await udpEcho('b:')];
    const controller = new AbortController();
    const fwd = await forward(
      parseAddress('udp://127.0.0.1:0'),
      [
        { kind: 'socket', address: parseAddress(a.url) },
        { kind: 'socket', address: parseAddress(b.url) },
      ],
      { signal: controller.signal },
    );
    const listenAt = fwd.addresses[0] as SocketAddress;
    const [one, two] = [await client(), await client()];
    assert.equal(await ask(one, listenAt, 'first'), 'a:first');
    assert.equal(await ask(two, listenAt, 'second'), 'b:second');
    assert.equal(await ask(one, listenAt, 'again'), 'a:again', 'a peer keeps its target');
    assert.equal(a.sources.size, 1, 'one upstream socket for peer one');
    controller.abort();
    const summary = await fwd.done;
    assert.equal(summary.clients, 2);
    assert.equal(summary.bytesToTargets, 'firstsecondagain'.length);
    assert.equal(summary.bytesToClients, 'a:firstb:seconda:again'.length);
    for (const s of [a.socket, b.socket, one, two]) s.close();
  });

  test('a silent session ends after the idle time; the peer then gets a new upstream socket', {
    timeout: 10_000,
  }, async () => {
    const a = await udpEcho('a:');
    const controller = new AbortController();
    const events = new EventEmitter();
    const fwd = await forward(
      parseAddress('udp://127.0.0.1:0'),
      [{ kind: 'socket', address: parseAddress(a.url) }],
      {
        signal: controller.signal,
        udp: { idleTimeout: 50 },
        trace: (event) => {
          if (event.step === 'note' && event.detail?.includes('session ended')) events.emit('idle-end');
        },
      },
    );
    const listenAt = fwd.addresses[0] as SocketAddress;
    const peer = await client();
    const ended = once(events, 'idle-end');
    assert.equal(await ask(peer, listenAt, 'x'), 'a:x');
    await ended;
    assert.equal(await ask(peer, listenAt, 'y'), 'a:y');
    assert.equal(
      a.sources.size,
      2,
      'the target heard the peer from a new upstream socket after the idle end',
    );
    controller.abort();
    const summary = await fwd.done;
    assert.equal(summary.clients, 2, 'two sessions for one peer');
    a.socket.close();
    peer.close();
  });
});
