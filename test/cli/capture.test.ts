/**
 * `--hexdump`, `--dump FILE` and `--pcap FILE` on `connect` and `listen`: the capture files are
 * valid whenever the command stops, tshark's "Follow stream" gives back the bytes that passed,
 * and a file that cannot be written is one line and an exit code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { follow, tcpdump } from '../capture/readers.js';
import { hostPort, runCli, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());
const file = (name: string): string => join(dir.path, name);

describe('--pcap', () => {
  test('connect and listen each write the TCP flow they carried, both directions', {
    timeout: 9000,
  }, async () => {
    const request = randomBytes(200_000);
    const reply = randomBytes(30_000);
    const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--pcap', file('listen.pcapng')], {
      stdin: 'pipe',
    });
    const client = runCli(['connect', server.urls[0] as string, '--pcap', file('connect.pcapng')], {
      input: request,
    });
    await server.waitFor(/./, 'stdout');
    server.child.stdin?.end(reply);
    const [connected, listened] = await Promise.all([client, server.done]);
    assert.equal(connected.code, 0, connected.stderr);
    assert.equal(listened.code, 0, listened.stderr);
    assert.deepEqual(connected.stdout, reply);
    for (const name of ['listen.pcapng', 'connect.pcapng']) {
      const [stream] = await follow(file(name), 'tcp', 1);
      assert.equal(stream?.node1, `127.0.0.1:${hostPort(server.urls[0] as string).port}`, name);
      assert.deepEqual(stream?.fromNode0, request, name);
      assert.deepEqual(stream?.fromNode1, reply, name);
    }
  });

  test('a listener stopped by SIGINT mid-connection leaves a valid capture of what passed', {
    timeout: 9000,
  }, async () => {
    const server = await startCli([
      'listen',
      'tcp://127.0.0.1:0',
      '--keep-open',
      '--pcap',
      file('sigint.pcapng'),
    ]);
    const client = await startCli(['connect', server.urls[0] as string], { listens: 0, stdin: 'pipe' });
    client.child.stdin?.write('before the signal\n');
    await server.waitFor(/before the signal/, 'stdout');
    const stopped = await server.stop('SIGINT');
    assert.equal(stopped.code, 0, stopped.stderr);
    await client.stop();
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
    const server = await startCli(['listen', 'tcp://127.0.0.1:0', '--keep-open']);
    const client = await startCli(['connect', server.urls[0] as string, '--pcap', file('sigterm.pcapng')], {
      listens: 0,
      stdin: 'pipe',
    });
    client.child.stdin?.write('partial');
    await server.waitFor(/partial/, 'stdout');
    await client.stop('SIGTERM');
    await server.stop();
    const [stream] = await follow(file('sigterm.pcapng'), 'tcp', 1);
    assert.equal(stream?.fromNode0.toString(), 'partial');
  });

  test('tls:// is captured as plaintext', { timeout: 9000 }, async () => {
    const server = await startCli(
      ['listen', 'tls://127.0.0.1:0', '--self-signed', '--pcap', file('tls.pcapng')],
      {
        stdin: 'pipe',
      },
    );
    server.child.stdin?.end('plain reply');
    const result = await runCli(['connect', server.urls[0] as string, '--insecure'], {
      input: 'plain request',
    });
    assert.equal(result.stdout.toString(), 'plain reply');
    await server.done;
    const [stream] = await follow(file('tls.pcapng'), 'tcp', 1);
    assert.equal(stream?.fromNode0.toString(), 'plain request');
    assert.equal(stream?.fromNode1.toString(), 'plain reply');
  });

  test('udp:// datagrams are captured as UDP packets, both ways', { timeout: 9000 }, async () => {
    const server = await startCli(['listen', 'udp://127.0.0.1:0', '--pcap', file('udp.pcapng')], {
      stdin: 'pipe',
    });
    const client = await startCli(
      ['connect', server.urls[0] as string, '--lines', '--pcap', file('udp-client.pcapng')],
      {
        listens: 0,
        stdin: 'pipe',
      },
    );
    client.child.stdin?.write('one\ntwo\n');
    await server.waitFor(/one\ntwo\n/, 'stdout');
    server.child.stdin?.write('back\n');
    await client.waitFor(/back/, 'stdout');
    client.child.stdin?.end();
    await client.done;
    await server.stop();
    for (const name of ['udp.pcapng', 'udp-client.pcapng']) {
      const [stream] = await follow(file(name), 'udp', 1);
      assert.equal(stream?.fromNode0.toString(), 'one\ntwo\n', name);
      assert.equal(stream?.fromNode1.toString(), 'back\n', name);
      assert.equal((await tcpdump(file(name))).length, 3, name);
    }
  });
});

describe('--hexdump and --dump', () => {
  test('--hexdump shows on stderr who said what; --dump writes the same to a file', {
    timeout: 9000,
  }, async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const url = server.urls[0] as string;
    const result = await runCli(['connect', url, '--hexdump', '--dump', file('dump.txt')], {
      input: 'hello\n',
    });
    await server.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'hello\n');
    const port = hostPort(url).port;
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
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const result = await runCli(['connect', server.urls[0] as string, '--dump', file('quiet.txt')], {
      input: 'x',
    });
    await server.stop();
    assert.equal(result.stderr, '');
    assert.match(readFileSync(file('quiet.txt'), 'utf8'), /> sent 1 byte\n/);
  });
});

describe('capture file errors', () => {
  test('a write that fails mid-run (a full disk) stops that file with one warning; the traffic goes on', {
    timeout: 9000,
  }, async () => {
    const server = await startCli(['echo', 'tcp://127.0.0.1:0']);
    const result = await runCli(['connect', server.urls[0] as string, '--pcap', '/dev/full', '--hexdump'], {
      input: 'still echoed',
    });
    await server.stop();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), 'still echoed');
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('sockkit:'));
    assert.deepEqual(warnings, [
      'sockkit: pcap /dev/full: no space left on device; nothing more is written to it',
    ]);
    assert.match(result.stderr, /< received 12 bytes/, 'the hex dump goes on');
  });

  const target = 'tcp://127.0.0.1:9';
  test('a file in a directory that does not exist is one line, exit 1, before connecting', {
    timeout: 9000,
  }, async () => {
    const missing = file('no/such/dir/x.pcapng');
    const result = await runCli(['connect', target, '--pcap', missing]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `sockkit: pcap ${missing}: no such directory\n`);
  });

  test('a directory given as the file is one line, exit 1', { timeout: 9000 }, async () => {
    mkdirSync(file('a-directory'));
    const result = await runCli(['listen', 'tcp://127.0.0.1:0', '--dump', file('a-directory')]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `sockkit: dump ${file('a-directory')}: is a directory\n`);
  });

  test('- and one file for both flags are usage errors, exit 2', { timeout: 9000 }, async () => {
    const dash = await runCli(['connect', target, '--pcap', '-']);
    assert.equal(dash.code, 2);
    assert.equal(
      dash.stderr,
      "sockkit: connect: --pcap needs a file name (stdout carries the connection's bytes)\n",
    );
    const same = await runCli([
      'listen',
      'udp://127.0.0.1:0',
      '--pcap',
      file('same'),
      '--dump',
      file('same'),
    ]);
    assert.equal(same.code, 2);
    assert.match(
      same.stderr,
      /^sockkit: listen: --dump and --pcap name the same file \(.*same\); give each its own\n$/,
    );
  });
});
