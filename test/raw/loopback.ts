/** Loopback helpers for the raw transport socket tests: a closed port, and bulk TCP traffic. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/** closedTcpPort returns a port on `host` that a listener held a moment ago and nobody holds now. */
export async function closedTcpPort(host: string): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** BULK_CHUNK is one write of pushBulk: as large as a loopback segment gets. */
const BULK_CHUNK = 64 * 1024;

/**
 * pushBulk sends `bytes` bytes over one TCP connection on `host`, written 64 KiB at a time, and
 * resolves once the receiver has read them all: traffic for a raw socket to be handed copies of.
 */
export async function pushBulk(host: string, bytes: number): Promise<void> {
  let received = 0;
  const sink = createServer((socket) => {
    socket.on('data', (data: Buffer) => {
      received += data.length;
    });
    socket.on('end', () => socket.end());
  });
  sink.listen(0, host);
  await once(sink, 'listening');
  const client: Socket = connect((sink.address() as AddressInfo).port, host);
  try {
    await once(client, 'connect');
    const chunk = Buffer.alloc(BULK_CHUNK, 0x5a);
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!client.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)))) await once(client, 'drain');
    }
    client.end();
    await once(client, 'close');
  } finally {
    client.destroy();
    sink.close();
  }
  assert.equal(received, bytes, 'the bulk receiver read every byte');
}
