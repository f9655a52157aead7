import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { test } from 'node:test';
import { type AttachSocketFilter, socketFilterAttacher } from '../../src/native-addon.js';
import { datagramHandle } from '../../src/node-internals.js';
import { Bpf, encodeSocketFilter, type SocketFilterInstruction } from '../../src/raw/socket-filter.js';

const { EBADF, EINVAL, ENOTSOCK } = constants.errno;
const found = socketFilterAttacher();
const attach: AttachSocketFilter | undefined = 'attach' in found ? found.attach : undefined;
const needsAddon = attach
  ? false
  : `the addon has no attachSocketFilter: ${'reason' in found ? found.reason : ''}`;

/** startingWith accepts a UDP datagram whose payload starts with `byte` (a UDP socket's filter sees the UDP header at 0). */
const startingWith = (byte: number): SocketFilterInstruction[] => [
  { code: 0x30, jt: 0, jf: 0, k: 8 }, // ldb [8]
  { code: Bpf.JEQ_K, jt: 0, jf: 1, k: byte },
  { code: Bpf.RET_K, jt: 0, jf: 0, k: 0xffff_ffff },
  { code: Bpf.RET_K, jt: 0, jf: 0, k: 0 },
];

/** boundPair binds two UDP sockets on 127.0.0.1, closed when the test `t` ends. */
async function boundPair(t: {
  after(fn: () => void): void;
}): Promise<{ receiver: Socket; sender: Socket; port: number }> {
  const receiver = createSocket('udp4');
  const sender = createSocket('udp4');
  t.after(() => {
    receiver.close();
    sender.close();
  });
  receiver.bind(0, '127.0.0.1');
  sender.bind(0, '127.0.0.1');
  await Promise.all([once(receiver, 'listening'), once(sender, 'listening')]);
  return { receiver, sender, port: receiver.address().port };
}

function send(sender: Socket, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    sender.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
}

test('attachSocketFilter returns the kernel refusal as -errno: no socket, a closed descriptor, a program out of bounds', {
  skip: needsAddon,
}, async (t) => {
  const file = openSync('/dev/null', 'r');
  t.after(() => closeSync(file));
  const program = encodeSocketFilter(startingWith(0x41));
  assert.equal(attach?.(file, program, false), -ENOTSOCK);
  assert.equal(attach?.(1_000_000, program, false), -EBADF);
  const { receiver } = await boundPair(t);
  const fd = datagramHandle(receiver)?.fd ?? -1;
  // A jump past the end, and a program that can end without a return: the kernel's checker refuses both.
  const runsOff = encodeSocketFilter([
    { code: Bpf.JEQ_K, jt: 5, jf: 0, k: 0 },
    { code: Bpf.RET_K, jt: 0, jf: 0, k: 0 },
  ]);
  assert.equal(attach?.(fd, runsOff, false), -EINVAL);
  assert.equal(
    attach?.(fd, encodeSocketFilter([{ code: Bpf.LD_W_ABS, jt: 0, jf: 0, k: 0 }]), false),
    -EINVAL,
  );
});

test('attachSocketFilter throws for arguments that are not a descriptor, a program and a flag', {
  skip: needsAddon,
}, () => {
  const fn = attach as unknown as (...args: unknown[]) => number;
  const one = encodeSocketFilter(startingWith(0x41)).subarray(0, 8);
  assert.throws(() => fn(), TypeError);
  assert.throws(() => fn(-1, one, false), TypeError);
  assert.throws(() => fn(0, 'program', false), TypeError);
  assert.throws(() => fn(0, one, 'yes'), TypeError);
  assert.throws(() => fn(0, Buffer.alloc(0), false), RangeError);
  assert.throws(() => fn(0, Buffer.alloc(7), false), RangeError);
  assert.throws(() => fn(0, Buffer.alloc(8 * 4097), false), /1 to 4096 instructions/);
});

test('a filter keeps out what it refuses before the socket queues it', {
  skip: needsAddon,
  timeout: 5000,
}, async (t) => {
  const { receiver, sender, port } = await boundPair(t);
  const fd = datagramHandle(receiver)?.fd ?? -1;
  assert.equal(attach?.(fd, encodeSocketFilter(startingWith(0x41)), false), 0);
  const first = once(receiver, 'message');
  await send(sender, 'B: refused', port);
  await send(sender, 'A: accepted', port);
  const [message] = (await first) as [Buffer];
  assert.equal(message.toString(), 'A: accepted');
});

test('attachSocketFilter discards what was queued before the filter when asked, and counts it', {
  skip: needsAddon,
  timeout: 5000,
}, async (t) => {
  const { receiver, sender, port } = await boundPair(t);
  const handle = datagramHandle(receiver);
  handle?.recvStop(); // nothing reads the socket: what is sent stays queued
  for (const text of ['A1', 'A2', 'A3']) await send(sender, text, port);
  // Loopback queues a datagram during its send, so all three are normally there; the kernel
  // may defer a delivery under load, so the count is checked as a bound.
  const discarded = attach?.(handle?.fd ?? -1, encodeSocketFilter(startingWith(0x41)), true) ?? -1;
  assert.ok(discarded >= 0 && discarded <= 3, `discarded ${discarded}`);
});
