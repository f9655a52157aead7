/**
 * The datagram demo: an echo server and client over UDP in one process, narrated in the
 * introduction's words. No listen, no accept, no connection; each sendto becomes one datagram
 * that keeps its boundary (beside what the same writes become on a stream); a datagram to a port
 * nobody serves; the largest datagram that fits, and one byte more.
 */

import {
  dial,
  dialPacket,
  echoDatagram,
  formatAddress,
  type InetAddress,
  isSockkitError,
  listen,
  listenPacket,
  maxDatagramSize,
  type PacketConn,
  type Peer,
  plural,
} from '../../../index.js';
import type { Narration } from './narration.js';

/** How long the demo waits for a datagram before it calls it lost (UDP may lose any). */
const WAIT_MS = 2000;

/**
 * datagramDemo runs the UDP demo with the server bound to `address` (a `udp://` address; port 0
 * for any free one) and resolves true when every datagram behaved as the narration says. Rejects
 * with the SockkitError of a step that failed.
 */
export async function datagramDemo(
  address: InetAddress,
  message: string,
  story: Narration,
): Promise<boolean> {
  story.step(
    '1. The server creates a datagram socket and binds it to an address. That is all: there is no\n' +
      'listen and no accept, because datagrams from every client arrive on this one socket.',
  );
  const server = await listenPacket(address, { trace: story.tracer('server') });
  const received: Buffer[] = [];
  server.onMessage((data, peer) => {
    received.push(data);
    echoDatagram(data, peer, server);
  });
  let client: PacketConn | undefined;
  try {
    const host = server.localAddress.host;
    const family = host.includes(':') ? 6 : 4;
    const serverPeer: Peer = { address: host, port: server.localAddress.port };
    story.say(`The server is bound to ${formatAddress(server.localAddress)}.`);

    story.step(
      '2. The client creates its own datagram socket and binds it to any free port. It does not\n' +
        'connect: there is no connection. Each sendto names where its datagram goes.',
    );
    client = await listenPacket({ scheme: 'udp', host, port: 0 }, { trace: story.tracer('client') });

    const messages = [1, 2, 3].map((n) => `${message} ${n}`);
    story.step(
      `3. The client calls sendto three times. Each call becomes one datagram, and each keeps its\n` +
        'boundary: the server reads three messages, never one merged or one split.',
    );
    for (const text of messages) await client.send(text, serverPeer);
    const echoed: string[] = [];
    for (const _ of messages) {
      const datagram = await client.read(WAIT_MS);
      if (!datagram) break;
      echoed.push(datagram.data.toString());
    }
    const udpKept = equal(received.map(String), messages) && equal(echoed, messages);

    story.step(
      '4. The same three writes on a stream socket (TCP, untraced), read only once all three were sent:\n' +
        'a stream carries bytes, not messages, so they may arrive as one read.',
    );
    const streamReads = await streamReadsOf(host, messages);
    story.say(sideBySide(received.map(String), streamReads));
    story.say(
      received.length === messages.length
        ? `UDP: ${messages.length} datagrams sent, ${received.length} received, ${echoed.length} echoed back, each whole: boundaries kept.`
        : `UDP: ${messages.length} datagrams sent, ${received.length} received: UDP promises no delivery.`,
    );
    story.say(
      `TCP: ${messages.length} writes, ${plural(streamReads.length, 'read')}: ` +
        'a protocol on a stream must mark where its messages end (see docs/framing.md).',
    );

    story.step(
      '5. A datagram to a port nobody serves. The client connects a new socket to it (for UDP,\n' +
        'connect sends nothing: the kernel only fixes the peer) and sends one datagram. The host\n' +
        'answers with ICMP port unreachable, which the kernel reports on the connected socket.',
    );
    const refused = await refusedPort(host, story);

    const largest = maxDatagramSize(family);
    story.step(
      `6. How large one datagram can be: the IP length field has 16 bits, so over IPv${family} at most\n` +
        (family === 4
          ? `65535 - 20 (IP header) - 8 (UDP header) = ${largest} bytes of payload.`
          : `65535 - 8 (UDP header) = ${largest} bytes of payload (IPv6's length excludes its own header).`),
    );
    await client.send(Buffer.alloc(largest, 0x61), serverPeer);
    const big = await client.read(WAIT_MS);
    const fits = big?.data.length === largest;
    story.say(
      fits
        ? `${largest} bytes sent as one datagram, ${largest} bytes echoed back in one datagram.`
        : `${largest} bytes sent; nothing came back within ${WAIT_MS} ms (UDP promises no delivery).`,
    );
    const tooBig = await client.send(Buffer.alloc(largest + 1, 0x61), serverPeer).then(
      () => undefined,
      (err: unknown) => err,
    );
    const limitKept = isSockkitError(tooBig) && tooBig.code === 'ERR_MESSAGE_TOO_LARGE';
    story.say(
      limitKept
        ? `${largest + 1} bytes: refused before sending (the kernel would refuse it too: EMSGSIZE), ${tooBig.code}:\n${tooBig.message}`
        : `${largest + 1} bytes: the send was not refused, which it should have been.`,
    );

    story.step('7. Both sockets close. No FIN, no goodbye: the peer never learns of it.');
    await client.close();
    await server.close();
    const ok = udpKept && refused && fits && limitKept;
    story.conclude(
      ok
        ? `${messages.length} datagrams sent, ${messages.length} received and echoed: boundaries kept. A port nobody serves: refused.\n` +
            `${largest} bytes fit in one datagram; ${largest + 1} do not.`
        : 'The datagrams did NOT all behave as described above.',
    );
    story.conclude(
      'Next: run `npx sockkit echo udp://127.0.0.1:7007 --trace` in one terminal and\n' +
        '`npx sockkit send udp://127.0.0.1:7007 hi --trace` in another; then send to a port nobody\n' +
        "serves, and try `printf 'a\\nb\\n' | npx sockkit connect udp://127.0.0.1:7007 --lines`.",
    );
    return ok;
  } finally {
    await client?.close();
    await server.close();
  }
}

/** streamReadsOf sends `messages` as separate writes on a TCP connection and returns what each read got. */
async function streamReadsOf(host: string, messages: readonly string[]): Promise<string[]> {
  const listener = await listen({ scheme: 'tcp', host, port: 0 });
  try {
    const accepting = listener.accept();
    const writer = await dial(listener.address, { timeout: 5000 });
    const reader = await accepting;
    for (const text of messages) writer.write(text);
    await writer.closeWrite();
    const reads: string[] = [];
    for await (const chunk of reader) reads.push(chunk.toString());
    reader.close();
    writer.close();
    return reads;
  } finally {
    await listener.close();
  }
}

/** refusedPort sends one datagram to a port just freed and tells whether it was refused. */
async function refusedPort(host: string, story: Narration): Promise<boolean> {
  // A port that was free a moment ago: bind one, note it, let it go.
  const probe = await listenPacket({ scheme: 'udp', host, port: 0 });
  const port = probe.localAddress.port;
  await probe.close();
  const conn = await dialPacket({ scheme: 'udp', host, port }, { trace: story.tracer('client') });
  try {
    await conn.request('anyone there?', { timeout: WAIT_MS, retries: 0 });
    story.say('A reply came back: someone took the port in the meantime.');
    return false;
  } catch (err) {
    if (!isSockkitError(err)) throw err;
    if (err.code === 'ERR_CONNECTION_REFUSED') {
      story.say(
        `${err.message} (ICMP port unreachable).\n` +
          'An unconnected socket would never hear of it: the datagram would simply be lost.',
      );
      return true;
    }
    story.say(`${err.message}: no ICMP came back (a firewall may drop it).`);
    return false;
  } finally {
    await conn.close();
  }
}

/** sideBySide lays out what three recvfrom calls returned beside what the stream's reads returned. */
function sideBySide(datagrams: readonly string[], reads: readonly string[]): string {
  const left = datagrams.map((d) => `${JSON.stringify(d)} (${Buffer.byteLength(d)} bytes)`);
  const right = reads.map((r) => `${JSON.stringify(r)} (${Buffer.byteLength(r)} bytes)`);
  const width = Math.max(26, ...left.map((l) => l.length)) + 3;
  const rows = [`${'   UDP: each recvfrom returned'.padEnd(width + 3)}TCP: each read returned`];
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    rows.push(`${i + 1}. ${(left[i] ?? '').padEnd(width)}${right[i] ?? ''}`.trimEnd());
  }
  return rows.join('\n');
}

function equal(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
