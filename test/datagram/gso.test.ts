/**
 * UDP GSO and GRO on the native path: runs of equal-sized datagrams to one peer leave as one
 * message with a UDP_SEGMENT cmsg, and a real receiver (Python's socket module) sees every
 * datagram, exact and in order; messages a real sender (Python, with UDP_SEGMENT) had the kernel
 * join are cut back into their datagrams. The addon's counters (messages against datagrams) show
 * GSO and GRO were used.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { datagramPath } from '../../src/datagram/native-io.js';
import { UDP_BATCH_MODULE, type UdpBatchModule, type UdpBatchTotals } from '../../src/native-addon.js';
import { datagramHandle } from '../../src/node-internals.js';
import { hasCommand, type Peer, startPeer } from '../interop/udp-peers.js';

const path = datagramPath();
const skip = !path.native
  ? `native path unavailable: ${path.reason}`
  : hasCommand('python3')
    ? false
    : 'python3 is not installed (apt-get install python3)';
const options = { skip, timeout: 8000 };

function addon(): UdpBatchModule {
  return createRequire(import.meta.url)(UDP_BATCH_MODULE) as UdpBatchModule;
}

/** kernelOffloads asks a new UdpBatch whether this kernel gives it GSO and GRO. */
async function kernelOffloads(): Promise<{ gso: boolean; gro: boolean; built: boolean }> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  try {
    const batch = new (addon().UdpBatch)(
      datagramHandle(probe)?.fd ?? -1,
      1,
      1,
      () => {},
      () => {},
    );
    const stats = batch.stats?.();
    batch.close();
    return { gso: stats?.gso ?? false, gro: stats?.gro ?? false, built: stats !== undefined };
  } finally {
    probe.close();
  }
}
const offloads = skip === false ? await kernelOffloads() : { gso: false, gro: false, built: true };
/**
 * For the tests that need GSO (and GRO): skipped, with the reason, on a kernel without them. A
 * build of the addon older than GSO is not skipped: its tests fail, saying to rebuild it.
 */
const gsoOptions = {
  ...options,
  skip: skip || (offloads.gso || !offloads.built ? false : 'this kernel has no UDP GSO (Linux 4.18)'),
};
const groOptions = {
  ...options,
  skip:
    gsoOptions.skip || (offloads.gro || !offloads.built ? false : 'this kernel has no UDP GRO (Linux 5.0)'),
};

/** totals reads the addon's counters for this thread. */
function totals(): UdpBatchTotals {
  const read = addon().totals;
  assert.ok(read, `${UDP_BATCH_MODULE} has no totals(): rebuild it`);
  return read();
}

function pattern(size: number, seed: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

/**
 * A Python receiver: binds argv[1] sockets on 127.0.0.1, prints their ports on stderr, then reads
 * argv[2] datagrams in all and prints, per datagram, "socket-index length sha256" on stdout.
 */
const pythonReceiver = `
import hashlib, select, socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE: a whole burst fits
    except PermissionError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(('127.0.0.1', 0))
    sockets.append(s)
print('ports', *[s.getsockname()[1] for s in sockets], file=sys.stderr, flush=True)
left = int(sys.argv[2])
while left > 0:
    ready, _, _ = select.select(sockets, [], [], 5)
    if not ready:
        print('timeout', flush=True)
        break
    for s in ready:
        data = s.recv(70000)
        print(sockets.index(s), len(data), hashlib.sha256(data).hexdigest(), flush=True)
        left -= 1
print('done', flush=True)
`;

async function receiver(sockets: number, expected: number): Promise<{ peer: Peer; ports: number[] }> {
  const peer = await startPeer(
    'python3',
    ['-c', pythonReceiver, String(sockets), String(expected)],
    /ports ([\d ]+)\n/,
  );
  return { peer, ports: (peer.ready?.[1] ?? '').split(' ').map(Number) };
}

function digest(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** lines reads the receiver's report: one "socket length sha256" line per datagram, in arrival order. */
async function received(peer: Peer): Promise<string[]> {
  await peer.until('done', 6000);
  const lines = peer.stdout().trim().split('\n');
  assert.equal(lines.pop(), 'done');
  return lines;
}

test(
  'equal datagrams written in one turn leave as GSO messages, and Python reads each one exactly, in order',
  gsoOptions,
  async () => {
    const count = 150;
    const size = 1200;
    const { peer, ports } = await receiver(1, count);
    const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
    try {
      assert.equal(conn.batched, true);
      const before = totals();
      const sent = Array.from({ length: count }, (_, i) => pattern(size, i));
      for (const data of sent) conn.write(data, { address: '127.0.0.1', port: ports[0] as number });
      const lines = await received(peer);
      assert.deepEqual(
        lines,
        sent.map((data) => `0 ${size} ${digest(data)}`),
      );
      const after = totals();
      assert.equal(after.datagrams - before.datagrams, count);
      // 150 datagrams of 1,200 bytes: 54 fit one IPv4 message (65,507 bytes), so 3 messages.
      assert.equal(after.messages - before.messages, 3);
      assert.equal(after.gsoMessages - before.gsoMessages, 3);
    } finally {
      await conn.close();
      await peer.stop();
    }
  },
);

test(
  'a mixed batch (sizes and destinations interleaved) arrives exact and in order per destination',
  gsoOptions,
  async () => {
    // Built first, so the receiver knows how many to read.
    const plan: { to: number; data: Buffer }[] = [];
    const add = (to: number, size: number, times: number): void => {
      for (let i = 0; i < times; i += 1) plan.push({ to, data: pattern(size, plan.length) });
    };
    add(0, 1000, 5); // a run
    add(1, 1000, 3); // the same size, another peer: a run of its own
    add(0, 1000, 2);
    add(0, 10, 1); // shorter: ends the run it joins
    add(0, 1000, 1); // longer than 10: a new run... of one
    add(1, 0, 1); // empty: always plain
    add(1, 500, 4);
    add(1, 700, 1); // longer than the run's size: plain
    add(0, 65507, 2); // the largest: one per message
    add(0, 9000, 10); // 90,000 bytes: split at the 65,507-byte limit
    add(1, 100, 130); // more than 64 segments: split at 64
    const live = await receiver(2, plan.length);
    const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
    try {
      const before = totals();
      for (const { to, data } of plan)
        conn.write(data, { address: '127.0.0.1', port: live.ports[to] as number });
      const lines = await received(live.peer);
      for (const to of [0, 1]) {
        assert.deepEqual(
          lines.filter((line) => line.startsWith(`${to} `)),
          plan.filter((p) => p.to === to).map((p) => `${to} ${p.data.length} ${digest(p.data)}`),
          `destination ${to}`,
        );
      }
      const after = totals();
      assert.equal(after.datagrams - before.datagrams, plan.length);
      // Messages, GSO runs marked *: *5 x 1000, *3 x 1000, *2 x 1000 + 10, 1000, 0, *4 x 500, 700,
      // 65507, 65507, *7 x 9000, *3 x 9000, *64 x 100, *64 x 100, *2 x 100.
      assert.equal(after.messages - before.messages, 14);
      assert.equal(after.gsoMessages - before.gsoMessages, 9);
    } finally {
      await conn.close();
      await live.peer.stop();
    }
  },
);

test('with SOCKKIT_GSO=0 every datagram is a message of its own, and all arrive', options, async () => {
  const count = 40;
  const { peer, ports } = await receiver(1, count);
  process.env.SOCKKIT_GSO = '0';
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0')).finally(() => {
    delete process.env.SOCKKIT_GSO;
  });
  try {
    const before = totals();
    const sent = Array.from({ length: count }, (_, i) => pattern(1400, i));
    for (const data of sent) conn.write(data, { address: '127.0.0.1', port: ports[0] as number });
    assert.deepEqual(
      await received(peer),
      sent.map((data) => `0 1400 ${digest(data)}`),
    );
    const after = totals();
    assert.equal(after.messages - before.messages, count);
    assert.equal(after.gsoMessages - before.gsoMessages, 0);
  } finally {
    await conn.close();
    await peer.stop();
  }
});

/**
 * A sender on a socket the kernel refuses GSO on: SO_NO_CHECK (UDP without checksums) makes
 * udp_send_skb answer EINVAL to any UDP_SEGMENT message. Python makes the socket and hands it to
 * a Node child, which sends through the addon.
 */
const noChecksumSender = `
import socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK
s.bind(('127.0.0.1', 0))
subprocess.run([sys.argv[1], '-e', sys.argv[2], str(s.fileno()), *sys.argv[3:]], pass_fds=[s.fileno()], check=True)
`;
const nodeSender = `
const { UdpBatch } = require(process.argv[3]);
const batch = new UdpBatch(+process.argv[1], 4, 1000, () => {}, (errno) => console.log('error', errno));
for (let i = 0; i < 20; i += 1) batch.enqueue(Buffer.alloc(1300, i), +process.argv[2], '127.0.0.1');
const result = batch.flush();
const { messages, datagrams, gsoMessages, gso } = batch.stats();
console.log(JSON.stringify({ result, messages, datagrams, gsoMessages, gso }));
batch.close();
`;

test(
  'a socket the kernel refuses GSO on (SO_NO_CHECK) turns GSO off and sends every datagram plainly, in order',
  gsoOptions,
  async () => {
    const { peer, ports } = await receiver(1, 20);
    try {
      const child = spawn(
        'python3',
        [
          '-c',
          noChecksumSender,
          process.execPath,
          nodeSender,
          String(ports[0]),
          createRequire(import.meta.url).resolve(UDP_BATCH_MODULE),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(out), {
        result: 0,
        messages: 20,
        datagrams: 20,
        gsoMessages: 0,
        gso: false,
      });
      assert.deepEqual(
        await received(peer),
        Array.from({ length: 20 }, (_, i) => `0 1300 ${digest(Buffer.alloc(1300, i))}`),
      );
    } finally {
      await peer.stop();
    }
  },
);

/**
 * A Python GSO sender: argv port and a JSON plan of messages [size, count, tail]: `count`
 * datagrams of `size` bytes and, when tail > 0, one of `tail` bytes, sent as ONE message with a
 * UDP_SEGMENT cmsg of `size`. Datagram k (counting from 0 over the plan) holds pattern(k).
 */
const pythonGsoSender = `
import json, socket, sys
port, plan = int(sys.argv[1]), json.loads(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
k = 0
def pattern(size):
    global k
    data = bytes((i * 31 + k) & 0xff for i in range(size))
    k += 1
    return data
for size, count, tail in plan:
    message = b''.join(pattern(size) for _ in range(count)) + (pattern(tail) if tail else b'')
    s.sendmsg([message], [(socket.SOL_UDP, 103, size.to_bytes(2, sys.byteorder))], 0, ('127.0.0.1', port))
print('sent', flush=True)
`;

/** Plan for the GRO tests: a shorter tail, and more datagrams in one wake-up than a batch (64) holds. */
const groPlan: [number, number, number][] = [
  [1000, 40, 500],
  [50, 60, 0],
  [50, 60, 0],
  [50, 60, 7],
  [1200, 1, 0],
];

/** expectedFrom lists the datagrams `groPlan` sends, as "length sha256". */
function expectedFrom(plan: [number, number, number][]): string[] {
  const sizes = plan.flatMap(([size, count, tail]) => [
    ...Array<number>(count).fill(size),
    ...(tail ? [tail] : []),
  ]);
  return sizes.map((size, k) => `${size} ${digest(pattern(size, k))}`);
}

/** receiveGsoMessages has Python send `groPlan` to a new PacketConn, and reads every datagram. */
async function receiveGsoMessages(): Promise<{ got: string[]; counted: UdpBatchTotals }> {
  const expected = expectedFrom(groPlan);
  const conn = await listenPacket(parseAddress('udp://127.0.0.1:0'));
  try {
    assert.equal(conn.batched, true);
    conn.socket.setRecvBufferSize(4 << 20);
    const before = totals();
    const peer = await startPeer('python3', [
      '-c',
      pythonGsoSender,
      String(conn.localAddress.port),
      JSON.stringify(groPlan),
    ]);
    const got: string[] = [];
    try {
      await peer.until('sent', 6000);
      for (let i = 0; i < expected.length; i += 1) {
        const datagram = await conn.read(4000);
        if (!datagram) break;
        got.push(`${datagram.data.length} ${digest(datagram.data)}`);
      }
    } finally {
      await peer.stop();
    }
    const after = totals();
    return {
      got,
      counted: {
        messages: 0,
        datagrams: 0,
        gsoMessages: 0,
        receivedMessages: after.receivedMessages - before.receivedMessages,
        receivedDatagrams: after.receivedDatagrams - before.receivedDatagrams,
      },
    };
  } finally {
    await conn.close();
  }
}

test(
  'messages GRO joined from a GSO sender are cut back into every datagram, exact and in order',
  groOptions,
  async () => {
    const { got, counted } = await receiveGsoMessages();
    assert.deepEqual(got, expectedFrom(groPlan));
    assert.equal(counted.receivedDatagrams, got.length);
    // Each of Python's 5 GSO messages reached the socket whole, and was cut up by the addon.
    assert.equal(counted.receivedMessages, groPlan.length);
  },
);

test(
  'with SOCKKIT_GRO=0 the kernel cuts the GSO messages up itself, and every datagram arrives',
  gsoOptions,
  async () => {
    process.env.SOCKKIT_GRO = '0';
    try {
      const { got, counted } = await receiveGsoMessages();
      assert.deepEqual(got, expectedFrom(groPlan));
      assert.equal(counted.receivedMessages, got.length);
      assert.equal(counted.receivedDatagrams, got.length);
    } finally {
      delete process.env.SOCKKIT_GRO;
    }
  },
);
