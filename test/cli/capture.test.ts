/**
 * `--hexdump`, `--dump FILE` and `--pcap FILE` on `connect` and `listen`: the capture files are
 * valid whenever the command stops, tshark's "Follow stream" gives back the bytes that passed,
 * and a file that cannot be written is one line and an exit code. The peer of the command under
 * test is a plain Node socket in the test wherever it is not itself under test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { follow, tcpdump } from '../capture/readers.js';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());
const file = (name: string): string => join(dir.path, name);

/** server starts a TCP server on loopback that runs `handle` for each client, and returns its URL. */
async function server(handle: (socket: Socket) => void): Promise<{ url: string; server: Server }> {
  const listening = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    handle(socket);
  }).listen(0, '127.0.0.1');
  await once(listening, 'listening');
  return { url: `tcp://127.0.0.1:${(listening.address() as AddressInfo).port}`, server: listening };
}

/** echoing answers each client with what it sent, and half-closes when the client does. */
function echoing(socket: Socket): void {
  socket.pipe(socket);
}

describe('--pcap', () => {
  test('connect and listen each write the TCP flow they carried, both directions', {
    timeout: 9000,
  }, async () => {
    const request = randomBytes(200_000);
    const reply = randomBytes(30_000);
    const listener = await startCli(['listen', 'tcp://127.0.0.1:0', '--pcap', file('listen.pcapng')], {
      stdin: 'pipe',
    });
    const client = runCli(['connect', listener.urls[0] as string, '--pcap', file('connect.pcapng')], {
      input: request,
    });
    await listener.waitFor(/./, 'stdout');
    listener.child.stdin?.end(reply);
    const [connected, listened] = await Promise.all([client, listener.done]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.equal(listened.code, 0, listened.stderr);
    assert.deepEqual(connected.stdout, reply);
    const streams = await Promise.all([
      follow(file('listen.pcapng'), 'tcp', 1),
      follow(file('connect.pcapng'), 'tcp', 1),
    ]);
    for (const [stream] of streams) {
      assert.equal(stream?.node1, `127.0.0.1:${hostPort(listener.urls[0] as string).port}`);
      assert.deepEqual(stream?.fromNode0, request);
      assert.deepEqual(stream?.fromNode1, reply);
    }
  });

  test('a listener stopped by SIGINT mid-connection leaves a valid capture of what passed', {
    timeout: 9000,
  }, async () => {
    const listener = await startCli([
      'listen',
      'tcp://127.0.0.1:0',
      '--keep-open',
      '--pcap',
      file('sigint.pcapng'),
    ]);
    const { port } = hostPort(listener.urls[0] as string);
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    client.write('before the signal\n');
    await listener.waitFor(/before the signal/, 'stdout');
    const stopped = await listener.stop('SIGINT');
    assert.equal(stopped.code, 0, stopped.stderr);
    client.destroy();
    const lines = await tcpdump(file('sigint.pcapng'));
    assert.match(lines[0] ?? '', /Flags \[S\]/);
    assert.ok(
      lines.some((line) => /Flags \[P\.\].*length 18/.test(line)),
      lines.join('\n'),
    );
    const [stream] = await follow(file('sigint.pcapng'), 'tcp', 1);
    assert.equal(stream?.fromNode0.toString(), 'before the signal\n');
  });

  test('a client killed by SIGTERM mid-connection leaves a valid capture of what passed', {
    timeout: 9000,
  }, async () => {
    let received = '';
    let arrived: () => void = () => {};
    const partial = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const peer = await server((socket) =>
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
        if (received === 'partial') arrived();
      }),
    );
    const client = await startCli(['connect', peer.url, '--pcap', file('sigterm.pcapng')], {
      listens: 0,
      stdin: 'pipe',
    });
    client.child.stdin?.write('partial');
    await partial;
    const stopped = await client.stop('SIGTERM');
    assert.equal(stopped.signal, 'SIGTERM', 'connect has no handler of its own: the signal ends it');
    peer.server.close();
    const [stream] = await follow(file('sigterm.pcapng'), 'tcp', 1);
    assert.equal(stream?.fromNode0.toString(), 'partial');
  });

  test('tls:// is captured as plaintext', { timeout: 9000 }, async () => {
    const listener = await startCli(
      ['listen', 'tls://127.0.0.1:0', '--self-signed', '--pcap', file('tls.pcapng')],
      {
        stdin: 'pipe',
      },
    );
    listener.child.stdin?.end('plain reply');
    const { port } = hostPort(listener.urls[0] as string);
    const client = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false });
    client.end('plain request');
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'plain reply');
    await listener.done;
    const [stream] = await follow(file('tls.pcapng'), 'tcp', 1);
    assert.equal(stream?.fromNode0.toString(), 'plain request');
    assert.equal(stream?.fromNode1.toString(), 'plain reply');
  });

  test('udp:// datagrams are captured as UDP packets, both ways, by listen and by connect', {
    timeout: 9000,
  }, async () => {
    // listen udp://, with a datagram client in the test.
    const listening = (async () => {
      const listener = await startCli(['listen', 'udp://127.0.0.1:0', '--pcap', file('udp-listen.pcapng')], {
        stdin: 'pipe',
      });
      const client = createSocket('udp4');
      client.connect(hostPort(listener.urls[0] as string).port, '127.0.0.1');
      await once(client, 'connect');
      client.send('one\n');
      await listener.waitFor(/one\n/, 'stdout');
      listener.child.stdin?.write('back\n');
      await once(client, 'message');
      client.close();
      await listener.stop();
    })();
    // connect udp://, with a datagram echo server in the test.
    const echo = createSocket('udp4');
    echo.on('message', (data, peer) => echo.send(data, peer.port, peer.address));
    echo.bind(0, '127.0.0.1');
    await once(echo, 'listening');
    const connecting = runCli(
      [
        'connect',
        `udp://127.0.0.1:${echo.address().port}`,
        '--lines',
        '--linger',
        '2s',
        '--pcap',
        file('udp-connect.pcapng'),
      ],
      { input: 'one\n' },
    ).finally(() => echo.close());
    await listening;
    assert.equal((await connecting).stdout.toString(), 'one\n');
    const streams = await Promise.all(
      ['udp-listen.pcapng', 'udp-connect.pcapng'].map((name) => follow(file(name), 'udp', 1)),
    );
    assert.deepEqual(
      streams.map(([stream]) => [stream?.fromNode0.toString(), stream?.fromNode1.toString()]),
      [
        ['one\n', 'back\n'],
        ['one\n', 'one\n'],
      ],
    );
  });
});

describe('--hexdump and --dump', () => {
  test('--hexdump shows on stderr who said what; --dump writes the same to a file', {
    timeout: 9000,
  }, async () => {
    const peer = await server(echoing);
    const result = await runCli(['connect', peer.url, '--hexdump', '--dump', file('dump.txt')], {
      input: 'hello\n',
    });
    peer.server.close();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'hello\n');
    const port = hostPort(peer.url).port;
    assert.match(
      result.stderr,
      new RegExp(
        `^#1 \\+\\d+\\.\\d{3}s connected 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${port} \\(tcp\\)$`,
        'm',
      ),
    );
    assert.match(
      result.stderr,
      /^#1 \+\d+\.\d{3}s > sent 6 bytes\n {2}00000000 {2}68 65 6c 6c 6f 0a {33}\|hello\.\|$/m,
    );
    assert.match(result.stderr, /^#1 \+\d+\.\d{3}s < received 6 bytes\n {2}00000000 {2}68 65 6c 6c 6f 0a/m);
    assert.match(result.stderr, /^#1 \+\d+\.\d{3}s > sent end of stream \(FIN\) after 6 bytes$/m);
    assert.equal(readFileSync(file('dump.txt'), 'utf8'), result.stderr);
  });

  test('--dump alone leaves stderr quiet', { timeout: 9000 }, async () => {
    const peer = await server(echoing);
    const result = await runCli(['connect', peer.url, '--dump', file('quiet.txt')], { input: 'x' });
    peer.server.close();
    assert.equal(result.stderr, '');
    assert.match(readFileSync(file('quiet.txt'), 'utf8'), /> sent 1 byte\n/);
  });
});

describe('capture file errors', () => {
  test('a write that fails mid-run (a full disk) stops that file with one warning; the traffic goes on', {
    timeout: 9000,
  }, async () => {
    const peer = await server(echoing);
    const result = await runCli(['connect', peer.url, '--pcap', '/dev/full', '--hexdump'], {
      input: 'still echoed',
    });
    peer.server.close();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'still echoed');
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('sockkit:'));
    assert.deepEqual(warnings, [
      'sockkit: pcap /dev/full: no space left on device; nothing more is written to it',
    ]);
    assert.match(result.stderr, /< received 12 bytes/, 'the hex dump goes on');
  });

  test('a missing directory or a directory as the file is one line, exit 1, before any socket', {
    timeout: 9000,
  }, async () => {
    mkdirSync(file('a-directory'));
    const missing = file('no/such/dir/x.pcapng');
    const [noDirectory, isDirectory] = await Promise.all([
      runCli(['connect', 'tcp://127.0.0.1:9', '--pcap', missing]),
      runCli(['listen', 'tcp://127.0.0.1:0', '--dump', file('a-directory')]),
    ]);
    assert.equal(noDirectory.code, 1);
    assert.equal(noDirectory.stderr, `sockkit: pcap ${missing}: no such directory\n`);
    assert.equal(isDirectory.code, 1);
    assert.equal(isDirectory.stderr, `sockkit: dump ${file('a-directory')}: is a directory\n`);
  });

  test('- and one file for both flags are usage errors, exit 2', { timeout: 9000 }, async () => {
    const [dash, same] = await Promise.all([
      runCli(['connect', 'tcp://127.0.0.1:9', '--pcap', '-']),
      runCli(['listen', 'udp://127.0.0.1:0', '--pcap', file('same'), '--dump', file('same')]),
    ]);
    assert.equal(dash.code, 2);
    assert.equal(
      dash.stderr,
      "sockkit: connect: --pcap needs a file name (stdout carries the connection's bytes)\n",
    );
    assert.equal(same.code, 2);
    assert.match(
      same.stderr,
      /^sockkit: listen: --dump and --pcap name the same file \(.*same\); give each its own\n$/,
    );
  });
});
