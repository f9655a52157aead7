import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import {
  CHARGEN_LINE_LENGTH,
  CHARGEN_MAX_DATAGRAM,
  chargenBytes,
  chargenLine,
  chargenStream,
  createChargenDatagram,
} from '../../src/services/chargen.js';
import { services } from '../../src/services/index.js';
import type { Conn } from '../../src/stream/conn.js';
import { listen } from '../../src/stream/listen.js';
import { serveBoth } from './serve-both.js';

const chargen = services.chargen;

// RFC 864, "TCP Based Character Generator Service", the sample of the popular pattern.
const rfcSample = [
  '!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh',
  '"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi',
  "#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghij",
  "$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijk",
];

/** checkLines asserts `text` is whole pattern lines starting at line `first`, each 72 characters and CR LF. */
function checkLines(text: string, first: number): void {
  const lines = text.split('\r\n');
  assert.equal(lines.pop(), '', 'ends with CR LF');
  for (const [i, line] of lines.entries()) {
    assert.equal(line.length, CHARGEN_LINE_LENGTH);
    const start = (first + i) % 95;
    const expected = Array.from({ length: 72 }, (_, j) =>
      String.fromCharCode(0x20 + ((start + j) % 95)),
    ).join('');
    assert.equal(line, expected, `line ${first + i}`);
  }
}

test('the pattern is RFC 864 sample text: 72 printable characters, each line one character later', () => {
  assert.equal(chargenLine(0), ` ${rfcSample[0]?.slice(0, 71)}\r\n`);
  for (const [i, line] of rfcSample.entries()) assert.equal(chargenLine(i + 1), `${line}\r\n`);
  // The 95 printable characters make a period of 95 lines; line 94 wraps from "~" to " ".
  assert.equal(chargenLine(95), chargenLine(0));
  assert.equal(chargenLine(94).slice(0, 3), '~ !');
  checkLines(chargenBytes(0, 95 * 74 * 2).toString('latin1'), 0);
});

test('over TCP the client reads the exact pattern from line 0 until it closes', async () => {
  const running = await serveBoth(chargen);
  const want = 95 * 74 * 4 + 17;
  try {
    const received = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const socket = connect(running.tcp.port, running.tcp.host);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        total += chunk.length;
        if (total >= want) {
          socket.destroy();
          resolve(Buffer.concat(chunks).subarray(0, want));
        }
      });
    });
    assert.ok(received.equals(chargenBytes(0, want)));
    checkLines(received.subarray(0, 95 * 74 * 4).toString('latin1'), 0);
    assert.ok(received.includes(Buffer.from(rfcSample.join('\r\n'))));
  } finally {
    await running.stop();
  }
});

test('over TCP a client that never reads holds the server to about one block of memory (backpressure)', async () => {
  const controller = new AbortController();
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { signal: controller.signal });
  const accepted = new Promise<Conn>((resolve) =>
    listener.handle((conn) => {
      chargenStream(conn);
      resolve(conn);
    }),
  );
  const client = connect(listener.address.scheme === 'unix' ? 0 : listener.address.port, '127.0.0.1');
  client.pause(); // never read
  const conn = await accepted;
  try {
    // Wait until the server is parked on 'drain': the kernel buffers are full and it stopped writing.
    const deadline = Date.now() + 5000;
    let last = -1;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const written = conn.bytesSent;
      if (written === last && conn.socket.listenerCount('drain') > 0) break;
      last = written;
    }
    assert.ok(conn.socket.listenerCount('drain') > 0, 'server waits for drain');
    // Queued in the process: at most one 63,270-byte block beyond the stream's high-water mark.
    assert.ok(conn.socket.writableLength <= 64 * 1024 + 16 * 1024, `queued ${conn.socket.writableLength}`);
  } finally {
    client.destroy();
    controller.abort();
    conn.close();
  }
});

test('over TCP the server stops and closes when the client half-closes', async () => {
  const running = await serveBoth(chargen);
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ port: running.tcp.port, host: running.tcp.host, allowHalfOpen: true });
      socket.on('error', reject);
      socket.once('data', () => socket.end());
      socket.on('close', () => resolve());
      socket.resume();
    });
  } finally {
    const [streams] = await running.stop();
    assert.equal(streams.forciblyClosed, 0);
  }
});

test('over UDP each datagram gets 0-512 pattern characters, starting one line later each time', async () => {
  const running = await serveBoth(chargen);
  const client = await dialPacket(running.udp);
  try {
    const starts: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const { data } = await client.request('', { timeout: 1000, retries: 2 });
      assert.ok(data.length <= CHARGEN_MAX_DATAGRAM, `length ${data.length}`);
      const start = Array.from({ length: 95 }, (_, line) => line).find((line) =>
        data.equals(chargenBytes(line * 74, data.length)),
      );
      assert.notEqual(
        start,
        undefined,
        `reply ${JSON.stringify(data.toString('latin1'))} is not the pattern`,
      );
      if (data.length >= 74) starts.push(start as number);
    }
    for (let i = 1; i < starts.length; i += 1) assert.notEqual(starts[i], starts[i - 1]);
  } finally {
    await client.close();
    await running.stop();
  }
});

test('createChargenDatagram with a fixed length answers exactly that many characters, rotating lines', async () => {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress('udp://[::1]:0'), { signal: controller.signal });
  const served = servePackets(
    [conn],
    createChargenDatagram(() => 512),
    { signal: controller.signal },
  );
  const client = await dialPacket(conn.localAddress);
  try {
    for (let line = 0; line < 97; line += 1) {
      const { data } = await client.request('next');
      assert.ok(data.equals(chargenBytes((line % 95) * 74, 512)), `reply ${line}`);
    }
  } finally {
    await client.close();
    controller.abort();
    await served;
  }
});
