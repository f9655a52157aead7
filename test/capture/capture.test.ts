/**
 * Capture on real loopback connections, read back by tshark and tcpdump: each connection is one
 * TCP flow between its real addresses and ports, and "Follow stream" gives back exactly the
 * bytes that passed, both ways; each datagram is one UDP packet.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAddress } from '../../src/address.js';
import { Capture } from '../../src/capture/capture.js';
import { dialPacket } from '../../src/datagram/dial-packet.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { type Certificate, selfSignedCertificate } from '../../src/security/certificate.js';
import type { Conn } from '../../src/stream/conn.js';
import { type DialOptions, dial } from '../../src/stream/dial.js';
import { type ListenOptions, listen } from '../../src/stream/listen.js';
import { tempDir } from '../helpers.js';
import { follow, run, tcpdump } from './readers.js';

const dir = tempDir();
after(() => dir.remove());
let files = 0;

/** recording makes a Capture that keeps what it writes, and saves it as a pcapng file to read back. */
function recording(): { capture: Capture; save: () => string; hexdump: () => string } {
  const blocks: Buffer[] = [];
  const text: string[] = [];
  const capture = new Capture({
    pcapng: (bytes) => blocks.push(Buffer.from(bytes)),
    hexdump: (line) => text.push(line),
  });
  return {
    capture,
    save: () => {
      files += 1;
      const file = join(dir.path, `capture-${files}.pcapng`);
      writeFileSync(file, Buffer.concat(blocks));
      return file;
    },
    hexdump: () => text.join(''),
  };
}

async function readAll(conn: Conn): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * converse connects a client to a server on `url`, the client sending `request` then half-closing,
 * the server reading it all, answering `reply` in two writes and half-closing. Whichever side
 * `tapped` names has the capture's tap. Resolves once both are closed, with the client's ports.
 */
async function converse(
  url: string,
  tapped: 'client' | 'server',
  capture: Capture,
  request: Buffer,
  reply: Buffer,
  tls: { server?: ListenOptions['tls']; client?: DialOptions['tls'] } = {},
): Promise<{ client: Conn; server: Conn }> {
  const listener = await listen(parseAddress(url), {
    tls: tls.server,
    ...(tapped === 'server' ? { tap: capture.streamTap } : {}),
  });
  try {
    const accepted = listener.accept();
    const client = await dial(listener.address, {
      tls: tls.client,
      ...(tapped === 'client' ? { tap: capture.streamTap } : {}),
    });
    const server = await accepted;
    const serverDone = (async () => {
      assert.deepEqual(await readAll(server), request);
      const half = reply.length >> 1;
      await server.send(reply.subarray(0, half));
      await server.send(reply.subarray(half));
      await server.closeWrite();
    })();
    client.write(request);
    await client.closeWrite();
    assert.deepEqual(await readAll(client), reply);
    await serverDone;
    await Promise.all([client.closed, server.closed]);
    return { client, server };
  } finally {
    await listener.close();
  }
}

describe('capture of stream connections', () => {
  let cert: Certificate;
  before(async () => {
    cert = await selfSignedCertificate(['localhost']);
  });

  test('an accepted IPv4 connection is one TCP flow; Follow stream gives the bytes of each side', {
    timeout: 9000,
  }, async () => {
    const { capture, save, hexdump } = recording();
    const request = randomBytes(300_000);
    const reply = randomBytes(100_001);
    const { client } = await converse('tcp://127.0.0.1:0', 'server', capture, request, reply);
    const file = save();
    const [stream] = await follow(file, 'tcp', 1);
    const clientPort = (client.localAddress as { port: number }).port;
    assert.equal(stream?.node0, `127.0.0.1:${clientPort}`, 'the client opened the flow');
    assert.deepEqual(stream?.fromNode0, request);
    assert.deepEqual(stream?.fromNode1, reply);
    const lines = await tcpdump(file);
    assert.match(
      lines[0] ?? '',
      new RegExp(`IP 127\\.0\\.0\\.1\\.${clientPort} > 127\\.0\\.0\\.1\\.\\d+: Flags \\[S\\]`),
    );
    assert.match(lines[1] ?? '', /Flags \[S\.\]/);
    assert.match(lines[2] ?? '', /Flags \[\.\], ack 1,/);
    assert.equal(lines.filter((line) => /Flags \[F\.\]/.test(line)).length, 2, 'a FIN each way');
    const text = hexdump();
    assert.match(
      text,
      new RegExp(
        `^#1 \\+\\d+\\.\\d{3}s accepted 127\\.0\\.0\\.1:${clientPort} on 127\\.0\\.0\\.1:\\d+ \\(tcp\\)$`,
        'm',
      ),
    );
    assert.match(text, /^#1 \+\d+\.\d{3}s < received end of stream \(FIN\) after 300000 bytes$/m);
    assert.match(text, /^#1 \+\d+\.\d{3}s > sent end of stream \(FIN\) after 100001 bytes$/m);
    assert.match(text, /^#1 \+\d+\.\d{3}s closed$/m);
  });

  test('a dialed IPv6 connection is a TCP flow over IPv6 between the real ports', {
    timeout: 9000,
  }, async () => {
    const { capture, save } = recording();
    const request = randomBytes(70_000);
    const reply = Buffer.from('short answer\n');
    const { client } = await converse('tcp://[::1]:0', 'client', capture, request, reply);
    const file = save();
    const [stream] = await follow(file, 'tcp', 1);
    const { port: local } = client.localAddress as { port: number };
    const { port: remote } = client.remoteAddress as { port: number };
    assert.match(stream?.node0 ?? '', new RegExp(`^(\\[::1\\]|::1):${local}$`));
    assert.match(stream?.node1 ?? '', new RegExp(`^(\\[::1\\]|::1):${remote}$`));
    assert.deepEqual(stream?.fromNode0, request);
    assert.deepEqual(stream?.fromNode1, reply);
    const lines = await tcpdump(file);
    assert.ok(
      lines.every((line) => line.includes(' IP6 ::1.')),
      lines.join('\n'),
    );
  });

  test('a Unix connection is written between 127.0.0.1:49152+n and 127.0.0.1:1', {
    timeout: 9000,
  }, async () => {
    const { capture, save, hexdump } = recording();
    const path = join(dir.path, 'capture.sock');
    const request = randomBytes(1000);
    const reply = randomBytes(2000);
    await converse(`unix:${path}`, 'server', capture, request, reply);
    const [stream] = await follow(save(), 'tcp', 1);
    assert.equal(stream?.node0, '127.0.0.1:49153');
    assert.equal(stream?.node1, '127.0.0.1:1');
    assert.deepEqual(stream?.fromNode0, request);
    assert.deepEqual(stream?.fromNode1, reply);
    assert.match(hexdump(), new RegExp(`^#1 \\+\\d+\\.\\d{3}s accepted a client on unix:${path}$`, 'm'));
  });

  test('a TLS connection is captured as the plaintext it carried', { timeout: 9000 }, async () => {
    const { capture, save } = recording();
    const request = Buffer.from('GET / HTTP/1.0\r\n\r\n');
    const reply = randomBytes(50_000);
    await converse('tls://127.0.0.1:0', 'client', capture, request, reply, {
      server: { cert: cert.cert, key: cert.key },
      client: { ca: cert.cert, servername: 'localhost' },
    });
    const [stream] = await follow(save(), 'tcp', 1);
    assert.deepEqual(stream?.fromNode0, request);
    assert.deepEqual(stream?.fromNode1, reply);
  });

  test('a connection the peer resets ends with a RST from the peer', { timeout: 9000 }, async () => {
    const { capture, save, hexdump } = recording();
    const listener = await listen(parseAddress('tcp://127.0.0.1:0'), { tap: capture.streamTap });
    const accepted = listener.accept();
    const client = await dial(listener.address);
    const server = await accepted;
    const received = new Promise<void>((resolve) => server.onData(() => resolve()));
    client.write('about to reset');
    await received;
    client.socket.resetAndDestroy();
    await server.closed;
    await listener.close();
    const file = save();
    const resets = (await run('tshark', ['-r', file, '-Y', 'tcp.flags.reset == 1'])).trim().split('\n');
    assert.equal(resets.length, 1);
    assert.match(
      resets[0] ?? '',
      new RegExp(`${(client.localAddress as { port: number }).port} → \\d+ \\[RST, ACK\\]`),
    );
    assert.match(hexdump(), /^#1 \+\d+\.\d{3}s closed by an error \(reset\)$/m);
  });

  test('an IPv4 client of a dual-stack listener is an IPv4 flow, not IPv4-mapped IPv6', {
    timeout: 9000,
  }, async () => {
    const { capture, save, hexdump } = recording();
    const listener = await listen(parseAddress('tcp://[::]:0'), { tap: capture.streamTap });
    const accepted = listener.accept();
    const { port } = listener.address as { port: number };
    const client = await dial(parseAddress(`tcp://127.0.0.1:${port}`));
    const server = await accepted;
    assert.match(server.socket.remoteAddress ?? '', /^::ffff:127\.0\.0\.1$/);
    server.close();
    client.close();
    await server.closed;
    await listener.close();
    const lines = await tcpdump(save());
    assert.match(
      lines[0] ?? '',
      new RegExp(`IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${port}: Flags \\[S\\]`),
    );
    assert.match(hexdump(), new RegExp(`accepted 127\\.0\\.0\\.1:\\d+ on 127\\.0\\.0\\.1:${port} \\(tcp\\)`));
  });

  test('several connections on one capture are told apart', { timeout: 9000 }, async () => {
    const { capture, save } = recording();
    const first = await converse(
      'tcp://127.0.0.1:0',
      'server',
      capture,
      Buffer.from('one'),
      Buffer.from('1'),
    );
    const second = await converse(
      'tcp://127.0.0.1:0',
      'client',
      capture,
      Buffer.from('two'),
      Buffer.from('2'),
    );
    const streams = await follow(save(), 'tcp', 2);
    assert.equal(capture.tapped, 2);
    assert.deepEqual(
      streams.map((s) => [s.node0, s.fromNode0.toString(), s.fromNode1.toString()]),
      [
        [`127.0.0.1:${(first.client.localAddress as { port: number }).port}`, 'one', '1'],
        [`127.0.0.1:${(second.client.localAddress as { port: number }).port}`, 'two', '2'],
      ],
    );
  });
});

describe('capture of datagram sockets', () => {
  for (const host of ['127.0.0.1', '[::1]']) {
    test(`each datagram over ${host} is one UDP packet between the real ports, both ways`, {
      timeout: 9000,
    }, async () => {
      const { capture, save, hexdump } = recording();
      const server = await listenPacket(parseAddress(`udp://${host}:0`), { tap: capture.packetTap });
      server.onMessage((data, peer) => server.write(Buffer.concat([Buffer.from('re: '), data]), peer));
      const client = await dialPacket(server.localAddress);
      const sent = [Buffer.from('first'), randomBytes(1200), Buffer.from('third')];
      for (const datagram of sent) {
        const reply = await client.request(datagram, { timeout: 2000 });
        assert.deepEqual(reply.data, Buffer.concat([Buffer.from('re: '), datagram]));
      }
      await client.close();
      await server.close();
      const [stream] = await follow(save(), 'udp', 1);
      assert.ok(stream?.node0.endsWith(`:${client.localAddress.port}`), stream?.node0);
      assert.ok(stream?.node1.endsWith(`:${server.localAddress.port}`), stream?.node1);
      assert.deepEqual(stream?.fromNode0, Buffer.concat(sent));
      assert.deepEqual(
        stream?.fromNode1,
        Buffer.concat(sent.map((d) => Buffer.concat([Buffer.from('re: '), d]))),
      );
      assert.match(
        hexdump(),
        /^#1 \+\d+\.\d{3}s < received 5 bytes from .*\n {2}00000000 {2}66 69 72 73 74/m,
      );
    });
  }

  test('a dual-stack socket hearing an IPv4 peer writes IPv4 packets, its own side as 0.0.0.0', {
    timeout: 9000,
  }, async () => {
    const { capture, save } = recording();
    const server = await listenPacket(parseAddress('udp://[::]:0'), { tap: capture.packetTap });
    server.onMessage((data, peer) => server.write(data, peer));
    const client = await dialPacket(parseAddress(`udp://127.0.0.1:${server.localAddress.port}`));
    assert.deepEqual((await client.request('mapped', { timeout: 2000 })).data, Buffer.from('mapped'));
    await client.close();
    await server.close();
    const lines = await tcpdump(save());
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `IP 127\\.0\\.0\\.1\\.${client.localAddress.port} > 0\\.0\\.0\\.0\\.${server.localAddress.port}: UDP, length 6`,
      ),
    );
  });
});
