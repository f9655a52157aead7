import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { SockkitError } from '../../src/errors.js';
import { encodeEcho } from '../../src/raw/icmp.js';
import { IcmpSocket, type ReceivedPacket } from '../../src/raw/icmp-socket.js';

const needsRoot = process.getuid?.() === 0 ? false : 'needs root (raw sockets)';

for (const [family, address] of [
  [4, '127.0.0.1'],
  [6, '::1'],
] as const) {
  test(`a raw socket sends an echo request to ${address} and parses the reply`, {
    skip: needsRoot,
  }, async () => {
    const socket = await IcmpSocket.open(family);
    try {
      const identifier = 40_000 + (process.pid % 20_000);
      const replied = new Promise<ReceivedPacket>((resolve) => {
        socket.on('packet', (packet) => {
          if (packet.message.kind === 'echo-reply' && packet.message.identifier === identifier)
            resolve(packet);
        });
      });
      const payload = Buffer.from('sockkit raw socket test');
      const sent = await socket.send(encodeEcho(family, { identifier, sequence: 9, payload }), address, {
        ttl: 7,
      });
      assert.equal(sent, 8 + payload.length);
      const reply = await replied;
      assert.equal(reply.source, address);
      assert.equal(reply.message.kind, 'echo-reply');
      assert.equal(reply.message.kind === 'echo-reply' && reply.message.sequence, 9);
      assert.deepEqual(reply.message.kind === 'echo-reply' && reply.message.payload, payload);
      if (family === 4) assert.equal(reply.ip?.source, address);
      else assert.equal(reply.ip, undefined);
    } finally {
      socket.close();
    }
  });
}

test('a closed socket emits close once and refuses to send', { skip: needsRoot }, async () => {
  const socket = await IcmpSocket.open(4);
  const closed = once(socket, 'close');
  socket.close();
  socket.close();
  await closed;
  assert.equal(socket.closed, true);
  await assert.rejects(
    socket.send(encodeEcho(4, { identifier: 1, sequence: 1 }), '127.0.0.1'),
    /socket is closed/,
  );
});

test('a send the kernel refuses rejects with a clear reason', { skip: needsRoot }, async () => {
  const socket = await IcmpSocket.open(4);
  try {
    // The limited broadcast address needs SO_BROADCAST, so the kernel refuses before anything leaves.
    await assert.rejects(
      socket.send(encodeEcho(4, { identifier: 1, sequence: 1 }), '255.255.255.255'),
      (err: unknown) => {
        assert.ok(err instanceof SockkitError);
        assert.equal(err.code, 'ERR_PERMISSION_DENIED');
        assert.equal(
          err.message,
          'send 255.255.255.255: operation not permitted (a firewall rule, or a broadcast address)',
        );
        return true;
      },
    );
  } finally {
    socket.close();
  }
});

test('a packet with a bad checksum is dropped with its reason, and the socket carries on', {
  skip: needsRoot,
}, async () => {
  const socket = await IcmpSocket.open(4);
  try {
    const identifier = 20_000 + (process.pid % 20_000);
    const damaged = encodeEcho(4, { identifier, sequence: 1, payload: Buffer.from('damaged') });
    damaged.writeUInt16BE(damaged.readUInt16BE(2) ^ 0x0101, 2);
    // The kernel drops the bad request itself, but a raw socket sees it first.
    const malformed = new Promise<string>((resolve) => {
      socket.on('malformed', (err, bytes) => {
        if (bytes.subarray(20).readUInt16BE(4) === identifier) resolve(err.message);
      });
    });
    await socket.send(damaged, '127.0.0.1');
    assert.match(await malformed, /^decode icmp: bad checksum 0x[0-9a-f]{4} \(expected 0x[0-9a-f]{4}\)$/);
    const replied = new Promise<void>((resolve) => {
      socket.on('packet', (packet) => {
        if (packet.message.kind === 'echo-reply' && packet.message.identifier === identifier) resolve();
      });
    });
    await socket.send(encodeEcho(4, { identifier, sequence: 2 }), '127.0.0.1');
    await replied;
  } finally {
    socket.close();
  }
});

test('an open raw socket survives garbage collection when the caller keeps no reference', {
  skip: needsRoot,
}, async () => {
  // Before sockets were held in a module-level set, the addon's object could be collected (and
  // its socket closed) while a caller awaited a reply through an unreferenced promise chain.
  const module = new URL('../../src/raw/icmp-socket.js', import.meta.url).href;
  const script = `
    import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
    const { IcmpSocket } = await import(${JSON.stringify(module)});
    await IcmpSocket.open(4);
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
    // Count the raw sockets this process holds: its socket inodes that /proc/net/raw lists.
    const inodes = new Set(readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } }).map((link) => /^socket:\\[(\\d+)\\]$/.exec(link)?.[1]).filter(Boolean));
    const raw = readFileSync('/proc/net/raw', 'utf8').trim().split('\\n').slice(1).map((line) => line.trim().split(/\\s+/)[9]);
    console.log(raw.filter((inode) => inodes.has(inode)).length);
    process.exit(0);`;
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 8000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), '1');
});
