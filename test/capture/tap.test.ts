/**
 * Taps as observers: a tap sees each direction's bytes and ends, and one that throws is dropped
 * without harming the connection, the socket or the process (the last line of defence).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import type { PacketTap, StreamTap, StreamTapInfo } from '../../src/capture/tap.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import type { Conn } from '../../src/stream/conn.js';
import { dial } from '../../src/stream/dial.js';
import { listen } from '../../src/stream/listen.js';

async function readAll(conn: Conn): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe('stream taps', () => {
  test('a tap sees the info, the bytes each way, both ends and the close, in order', {
    timeout: 5000,
  }, async () => {
    const seen: string[] = [];
    let info: StreamTapInfo | undefined;
    const tap: StreamTap = {
      data: (direction, chunk) => seen.push(`${direction} ${Buffer.from(chunk).toString()}`),
      end: (direction) => seen.push(`${direction} end`),
      close: (failed) => seen.push(`close ${failed}`),
    };
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
    listener.handle(async (conn) => {
      const text = await readAll(conn);
      await conn.send(text.toUpperCase());
      await conn.closeWrite();
    });
    const conn = await dial(listener.address, {
      tap: (asked) => {
        info = asked;
        return tap;
      },
    });
    conn.write('hello');
    await conn.closeWrite();
    assert.equal(await readAll(conn), 'HELLO');
    await conn.closed;
    await listener.close();
    assert.deepEqual(seen, ['out hello', 'out end', 'in HELLO', 'in end', 'close false']);
    assert.equal(info?.role, 'client');
    assert.equal(info?.kind, 'tcp4');
    assert.deepEqual(info?.local, {
      address: '127.0.0.1',
      port: (conn.localAddress as { port: number }).port,
    });
    assert.deepEqual(info?.remote, {
      address: '127.0.0.1',
      port: (conn.remoteAddress as { port: number }).port,
    });
  });

  test('a tap that throws is dropped; the connection carries on, on both sides', {
    timeout: 5000,
  }, async () => {
    let calls = 0;
    const throwing: StreamTap = {
      data: () => {
        calls += 1;
        throw new Error('observer bug');
      },
      end: () => {
        calls += 1;
      },
      close: () => {
        calls += 1;
      },
    };
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { tap: () => throwing });
    listener.handle((conn) => {
      conn.onData((chunk) => conn.write(chunk));
      conn.socket.once('end', () => void conn.closeWrite());
    });
    const conn = await dial(listener.address, { tap: () => throwing });
    conn.write('one');
    conn.write('two');
    await conn.closeWrite();
    assert.equal(await readAll(conn), 'onetwo');
    await listener.close();
    assert.equal(calls, 2, 'each side called data once, then nothing more');
  });
});

describe('datagram taps', () => {
  test('a packet tap that throws is dropped; datagrams still flow', { timeout: 5000 }, async () => {
    const seen: string[] = [];
    const throwing: PacketTap = {
      datagram: (direction, data) => {
        seen.push(`${direction} ${Buffer.from(data).toString()}`);
        throw new Error('observer bug');
      },
      close: () => seen.push('close'),
    };
    const server = await listenPacket(parseAddress('udp://127.0.0.1:0'), { tap: () => throwing });
    server.onMessage((data, peer) => server.write(data, peer));
    const client = await dialPacket(server.localAddress);
    for (const text of ['a', 'b'])
      assert.equal((await client.request(text, { timeout: 2000 })).data.toString(), text);
    await client.close();
    await server.close();
    assert.deepEqual(seen, ['in a']);
  });
});
