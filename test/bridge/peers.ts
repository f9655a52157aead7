/**
 * Peers for bridge tests, on real loopback sockets: a target that sends its own data while it
 * reads (both directions at once), an echo target, and a client that does the same.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:net';
import { type InetAddress, parseAddress } from '../../src/address.js';
import type { Conn } from '../../src/stream/conn.js';
import { type Listener, type ListenOptions, listen } from '../../src/stream/listen.js';

/** sha256 is the hex digest of `data`. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sendAll writes `data` in 64 KiB pieces, waiting whenever the socket is full, then half-closes. */
export async function sendAll(conn: Conn, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 65_536) await conn.send(data.subarray(at, at + 65_536));
  await conn.closeWrite();
}

/** readAll resolves with the digest and length of everything `conn` reads until EOF. */
export async function readAll(conn: Conn): Promise<{ digest: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of conn) {
    hash.update(chunk);
    length += chunk.length;
  }
  return { digest: hash.digest('hex'), length };
}

/**
 * exchange sends `data` and reads until EOF at the same time, as both directions at once do; it
 * closes the connection after.
 */
export async function exchange(conn: Conn, data: Buffer): Promise<{ digest: string; length: number }> {
  const [, received] = await Promise.all([sendAll(conn, data), readAll(conn)]);
  conn.close();
  return received;
}

/** BusyTarget is a listener whose every client is sent `data` while what it sends is read. */
export interface BusyTarget {
  readonly listener: Listener;
  readonly data: Buffer;
  /** What each client sent, in the order they finished. */
  readonly received: { digest: string; length: number }[];
  /** receivedFrom resolves once `count` clients have finished. */
  receivedFrom(count: number): Promise<void>;
}

/** busyTarget listens on `url` and, for each client, sends `size` random bytes while reading all it sends. */
export async function busyTarget(
  url: string,
  size: number,
  options: ListenOptions = {},
): Promise<BusyTarget> {
  const listener = await listen(parseAddress(url), options);
  const finished = new EventEmitter();
  const target: BusyTarget = {
    listener,
    data: randomBytes(size),
    received: [],
    receivedFrom: async (count) => {
      while (target.received.length < count) await once(finished, 'client');
    },
  };
  listener.handle((conn) => {
    void exchange(conn, target.data).then(
      (r) => {
        target.received.push(r);
        finished.emit('client');
      },
      () => {},
    );
  });
  return target;
}

/** echoTarget listens on `url` and echoes every byte, half-closing when the client does. */
export async function echoTarget(
  url: string,
  options: ListenOptions = {},
): Promise<Listener & { served: number }> {
  const listener = Object.assign(await listen(parseAddress(url), options), { served: 0 });
  listener.handle((conn) => {
    listener.served += 1;
    conn.onData((chunk) => {
      if (!conn.write(chunk)) {
        conn.pause();
        conn.socket.once('drain', () => conn.resume());
      }
    });
    conn.socket.once('end', () => void conn.closeWrite());
  });
  return listener;
}

/** PeerRun is what a finished peer program left: its exit code, stdout and stderr. */
export interface PeerRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** runPeer runs a real peer (socat, ncat) with `input` on its stdin, killed after `timeout` ms. */
export function runPeer(
  command: string,
  args: readonly string[],
  input: Buffer | string,
  timeout = 8000,
): Promise<PeerRun> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdin.on('error', () => {});
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    }),
  );
}

/** deadPort is a loopback TCP address nothing listens on: bound, then closed. */
export async function deadPort(): Promise<InetAddress> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return { scheme: 'tcp', host: '127.0.0.1', port };
}
