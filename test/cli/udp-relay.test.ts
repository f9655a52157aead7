import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { servePackets } from '../../src/datagram/serve-packets.js';
import { echoDatagram } from '../../src/services/echo.js';
import { runCli, startCli } from '../helpers.js';
import { unusedUdpPort } from '../interop/udp-peers.js';

async function startEcho(url = 'udp://127.0.0.1:0') {
  const controller = new AbortController();
  const conn = await listenPacket(parseAddress(url), { signal: controller.signal });
  const served = servePackets([conn], echoDatagram, { signal: controller.signal });
  return {
    url: `udp://${conn.localAddress.host}:${conn.localAddress.port}`,
    conn,
    stop: () => {
      controller.abort();
      return served;
    },
  };
}

/** stdoutOf collects a child's stdout and resolves `until` once it contains `text`. */
function stdoutOf(child: { stdout: NodeJS.ReadableStream | null }) {
  let seen = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const w of waiters.splice(0)) {
      if (seen.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    text: () => seen,
    until: (text: string) =>
      new Promise<void>((resolve) => (seen.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

test('connect udp:// --lines sends each line as one datagram and prints each reply', async () => {
  const echo = await startEcho();
  try {
    const result = await runCli(['connect', echo.url, '--lines', '--linger', '300ms'], {
      input: 'a\nbb\nccc',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'a\nbb\nccc');
    assert.equal(echo.conn.datagramsReceived, 3);
  } finally {
    await echo.stop();
  }
});

test('connect udp:// carries 200 KB of binary stdin through an echo byte for byte', async () => {
  const echo = await startEcho('udp://[::1]:0');
  const input = randomBytes(200_000);
  try {
    const result = await runCli(
      ['connect', `udp://[::1]:${echo.conn.localAddress.port}`, '--linger', '500ms'],
      {
        input,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.equals(input));
    assert.ok(echo.conn.datagramsReceived >= 4, 'split into datagrams no larger than the limit');
  } finally {
    await echo.stop();
  }
});

test('connect udp:// to a port nobody serves exits 1 with connection refused', async () => {
  const port = await unusedUdpPort();
  const result = await runCli(['connect', `udp://127.0.0.1:${port}`, '--linger', '2s'], { input: 'hello\n' });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `sockkit: connect udp://127.0.0.1:${port}: connection refused (is a server listening there?)\n`,
  );
});

test('listen udp:// prints the first peer datagrams, answers it from stdin, and ignores other peers', async () => {
  const server = await startCli(['listen', 'udp://127.0.0.1:0', '--lines'], { stdin: 'pipe' });
  const out = stdoutOf(server.child);
  const first = await dialPacket(parseAddress(server.urls[0] as string));
  const other = await dialPacket(parseAddress(server.urls[0] as string));
  try {
    await first.send('hello from the first\n');
    await out.until('hello from the first\n');
    await other.send('from another peer\n');
    server.child.stdin?.write('back to you\nand again\n');
    assert.equal((await first.read(3000))?.data.toString(), 'back to you\n');
    assert.equal((await first.read(3000))?.data.toString(), 'and again\n');
    await first.send('bye\n');
    await out.until('bye\n');
    assert.equal(out.text(), 'hello from the first\nbye\n');
    assert.equal(await other.read(100), undefined);
  } finally {
    await first.close();
    await other.close();
    const result = await server.stop();
    assert.equal(result.code, 0);
    assert.match(result.stderr, /1 datagram dropped/);
  }
});

test('listen udp:// --keep-open prints every peer and sends stdin to the last peer heard from', async () => {
  const server = await startCli(['listen', 'udp://[::1]:0', '--keep-open'], { stdin: 'pipe' });
  const out = stdoutOf(server.child);
  const a = await dialPacket(parseAddress(server.urls[0] as string));
  const b = await dialPacket(parseAddress(server.urls[0] as string));
  try {
    await a.send('A1 ');
    await out.until('A1 ');
    await b.send('B1 ');
    await out.until('B1 ');
    server.child.stdin?.write('to the last');
    assert.equal((await b.read(3000))?.data.toString(), 'to the last');
    assert.equal(await a.read(100), undefined);
    await a.send('A2');
    await out.until('A2');
    server.child.stdin?.write('now to A');
    assert.equal((await a.read(3000))?.data.toString(), 'now to A');
  } finally {
    await a.close();
    await b.close();
    assert.equal((await server.stop()).code, 0);
  }
});

test('listen udp:// --trace narrates the datagram socket', async () => {
  const server = await startCli(['listen', 'udp://127.0.0.1:0', '--trace']);
  const client = await dialPacket(parseAddress(server.urls[0] as string));
  await client.send('12345');
  const out = stdoutOf(server.child);
  await out.until('12345');
  await client.close();
  const result = await server.stop();
  assert.match(
    result.stderr,
    /\[server\] #\d+ socket udp4 created\n\[server\] #\d+ bound to 127\.0\.0\.1:\d+\n/,
  );
  assert.match(result.stderr, /\[server\] #\d+ recv 5 bytes from 127\.0\.0\.1:\d+/);
  assert.match(result.stderr, /\[server\] #\d+ closed/);
});
