/**
 * The stream demo: the introduction's echo example over a stream socket (TCP, or a Unix socket),
 * a server and a client in one process, each socket's life traced as it happens.
 */

import { dial, echoStream, formatAddress, listen, type SocketAddress } from '../../../index.js';
import type { Narration } from './narration.js';

/**
 * streamDemo runs the echo example on `address` (where the server listens; port 0 for any free
 * one) with `message`, and resolves true when the echo came back exact. Rejects with the
 * SockkitError of a step that failed (`listen tcp://127.0.0.1:80: permission denied`).
 */
export async function streamDemo(
  address: SocketAddress,
  message: string,
  story: Narration,
): Promise<boolean> {
  story.step('1. The server creates a socket, binds it to an address, and listens for connections.');
  const listener = await listen(address, { trace: story.tracer('server') });
  try {
    story.say(`The server is listening on ${formatAddress(listener.address)}.`);

    story.step('2. The client creates its own socket and connects; the server accepts the connection.');
    const accepting = listener.accept();
    const client = await dial(listener.address, { trace: story.tracer('client'), timeout: 5000 });
    const served = await accepting;
    echoStream(served);

    story.step(
      `3. The client sends ${JSON.stringify(message)}, then shuts down its write side (half-close),\n` +
        'telling the server it has nothing more to send. The server echoes every byte back.',
    );
    await client.send(message);
    await client.closeWrite();
    const chunks: Buffer[] = [];
    for await (const chunk of client) chunks.push(chunk);
    const reply = Buffer.concat(chunks).toString();

    story.step('4. The server saw EOF, finished echoing and closed; the client read to the end and closed.');
    await Promise.all([client.closed, served.closed]);
    const exact = reply === message;
    story.conclude(
      `Sent ${JSON.stringify(message)}, received ${JSON.stringify(reply)}: ` +
        (exact ? 'the echo is exact.' : 'the echo DIFFERS.'),
    );
    story.conclude(
      'Next: run `npx sockkit echo` in one terminal and `npx sockkit connect tcp://127.0.0.1:65432`\n' +
        'in another, add --trace to either, or see `npx sockkit --help` for every command.',
    );
    return exact;
  } finally {
    await listener.close();
  }
}
