/**
 * `forward udp://... --pcap/--dump/--hexdump`: each client peer's datagrams, both ways, as a UDP
 * flow between the peer and the listener, read back by tshark equal to what was sent.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { follow } from '../capture/readers.js';
import { hostPort, startCli, tempDir } from '../helpers.js';

const dir = tempDir();
after(() => dir.remove());

/** upperEcho is a UDP target that answers each datagram with it upper-cased, so the directions differ. */
async function upperEcho(): Promise<Socket> {
  const echo = createSocket('udp4');
  echo.on('message', (data, peer) => echo.send(data.toString().toUpperCase(), peer.port, peer.address));
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  return echo;
}

/** exchange sends each of `messages` from a new socket to `port`, waiting for each reply; it resolves with its port. */
async function exchange(port: number, messages: readonly string[]): Promise<number> {
  const client = createSocket('udp4');
  client.connect(port, '127.0.0.1');
  await once(client, 'connect');
  for (const message of messages) {
    client.send(message);
    const [reply] = (await once(client, 'message')) as [Buffer];
    assert.equal(reply.toString(), message.toUpperCase());
  }
  const own = client.address().port;
  client.close();
  return own;
}

test('forward udp:// --pcap --dump: each client peer is a UDP flow, both ways, as tshark reads it', {
  timeout: 10_000,
}, async () => {
  const echo = await upperEcho();
  const pcap = join(dir.path, 'forward-udp.pcapng');
  const dump = join(dir.path, 'forward-udp.txt');
  const forward = await startCli([
    'forward',
    'udp://127.0.0.1:0',
    `udp://127.0.0.1:${echo.address().port}`,
    '--pcap',
    pcap,
    '--dump',
    dump,
  ]);
  try {
    const { port } = hostPort(forward.urls[0] as string);
    const first = await exchange(port, ['one\n', 'two\n']);
    const second = await exchange(port, ['three\n']);
    assert.equal((await forward.stop()).code, 0);
    const flows = await follow(pcap, 'udp', 2);
    const seen = flows.map((flow) => [
      flow.node0,
      flow.node1,
      flow.fromNode0.toString(),
      flow.fromNode1.toString(),
    ]);
    assert.deepEqual(seen, [
      [`127.0.0.1:${first}`, `127.0.0.1:${port}`, 'one\ntwo\n', 'ONE\nTWO\n'],
      [`127.0.0.1:${second}`, `127.0.0.1:${port}`, 'three\n', 'THREE\n'],
    ]);
    const text = readFileSync(dump, 'utf8');
    for (const word of ['three', 'THREE']) assert.ok(text.includes(word), `the dump shows ${word}:\n${text}`);
  } finally {
    await forward.stop();
    echo.close();
  }
});
