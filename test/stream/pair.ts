/** Test helpers for relays: both ends of one real loopback connection, and a Writable that keeps what it gets. */
import { Writable } from 'node:stream';
import { type Conn, dial, listen, parseAddress } from '../../src/index.js';

/** pair dials a listener on port 0 and returns both ends of the one connection. */
export async function pair(): Promise<{ client: Conn; server: Conn }> {
  const listener = await listen(parseAddress('tcp://127.0.0.1:0'));
  const accepted = listener.accept();
  const client = await dial(listener.address);
  const server = await accepted;
  await listener.close();
  return { client, server };
}

/** sink is a Writable that keeps every byte written to it. */
export function sink(): { output: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { output, bytes: () => Buffer.concat(chunks) };
}
