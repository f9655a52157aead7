/** `sockkit listen URL [--keep-open]`: netcat's server: accept a client, relay it to stdin/stdout. */
import { Command } from 'commander';
import { AbortError } from '../errors.js';
import type { Conn } from '../stream/conn.js';
import { type Listener, listen } from '../stream/listen.js';
import { relay } from '../stream/relay.js';
import { aborted } from '../stream/serve.js';
import { addressArg, announceListening, tracerFor } from './common.js';
import { guardFor, type LimitFlags, refuseLimitFlags, withLimitOptions } from './limit-options.js';
import { shutdownSignal } from './run.js';
import { type TlsServerFlags, tlsServerOptionsOf, withTlsServerOptions } from './tls-options.js';
import { addUdpListenFlags, listenUdp } from './udp-relay.js';

export function listenCommand(): Command {
  return addUdpListenFlags(withLimitOptions(withTlsServerOptions(new Command('listen'))))
    .summary('accept a client and relay stdin/stdout (like nc -l)')
    .description(
      'Listen on URL, accept one client, and relay it to stdin/stdout as `connect` does; exit once\n' +
        'it is done. With --keep-open, keep accepting: what clients send goes to stdout, and stdin\n' +
        'goes to every connected client, at the pace of the slowest (one that leaves no longer\n' +
        'holds the others back).\n\n' +
        'udp://: prints the datagrams of the first peer (with --keep-open, of every\n' +
        'peer) and sends stdin to the peer heard from last, as nc -u -l does.',
    )
    .argument('<url>', 'where to listen, e.g. tcp://127.0.0.1:0')
    .option('-k, --keep-open', 'keep accepting clients after the first')
    .addHelpText(
      'after',
      `
Examples:
  sockkit listen tcp://127.0.0.1:9000 > received.bin   # receive one file
  sockkit listen unix:/tmp/chat.sock                    # talk to one client
  sockkit listen tcp://[::]:9000 --keep-open           # many clients, IPv6 and IPv4
  sockkit listen udp://127.0.0.1:9000                  # like nc -u -l: the first peer only
  sockkit listen udp://[::]:9000 --keep-open --lines   # any peer; each stdin line to the last one heard
  sockkit listen udp://0.0.0.0:9000 --broadcast        # receive (and answer) broadcasts
  sockkit listen udp://0.0.0.0:5000 --join 233.252.0.1 --multicast-interface 192.0.2.10
  sockkit listen udp://0.0.0.0:5000 --join 233.252.0.1 --multicast-ttl 4 --no-multicast-loopback`,
    )
    .action(async (url: string, options: ListenFlags, command: Command) => {
      const address = addressArg('listen', url, ['tcp', 'unix', 'tls', 'udp']);
      if (address.scheme === 'udp') {
        refuseLimitFlags(options, 'listen udp:// (use sockkit echo or serve for a limited UDP server)');
        return listenUdp(address, command);
      }
      const tls = await tlsServerOptionsOf(options, [address]);
      const guard = guardFor(options, command);
      const signal = shutdownSignal();
      const listener = await listen(address, {
        signal,
        trace: tracerFor(command, 'server'),
        tls,
        guard,
      });
      announceListening(listener.addresses);
      if (options.keepOpen) return serveMany(listener, signal);
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (err instanceof AbortError) return;
        throw err;
      }
      await listener.close();
      signal.addEventListener('abort', () => conn.close(), { once: true });
      await relay(conn, process.stdin, process.stdout, { stopOnPeerClose: process.stdin.isTTY === true });
    });
}

/**
 * serveMany relays every client to stdout and stdin to every client, until the signal aborts.
 * Both directions keep backpressure: stdin waits for the slowest client, and a client waits
 * for stdout. What waits on a client is released when it drains or leaves, so a client that
 * stopped reading and then went away never holds the others back.
 */
async function serveMany(listener: Listener, signal: AbortSignal): Promise<void> {
  const clients = new Set<Conn>();
  // The clients whose buffers are full: stdin stays paused while any is left.
  const stdinWaitsFor = new Set<Conn>();
  // The clients paused for stdout: one 'drain' listener resumes them all.
  const waitingForStdout = new Set<Conn>();
  let inputEnded = false;
  let stopped = false;
  const release = (conn: Conn): void => {
    if (!stdinWaitsFor.delete(conn) || stdinWaitsFor.size > 0 || stopped) return;
    conn.trace('note', { detail: 'stdin resumed' });
    process.stdin.resume();
  };
  const resumeClients = (): void => {
    for (const conn of waitingForStdout) conn.resume();
    waitingForStdout.clear();
  };
  listener.handle((conn) => {
    clients.add(conn);
    conn.socket.once('close', () => {
      clients.delete(conn);
      waitingForStdout.delete(conn);
      release(conn);
    });
    if (inputEnded) void conn.closeWrite();
    conn.onData((chunk) => {
      if (process.stdout.write(chunk)) return;
      conn.pause();
      if (waitingForStdout.size === 0) process.stdout.once('drain', resumeClients);
      waitingForStdout.add(conn);
    });
    // A client's FIN ends only its direction; close ours too so it is not left half-open.
    conn.socket.once('end', () => void conn.closeWrite());
  });
  process.stdin.on('data', (chunk: Buffer) => {
    for (const conn of clients) {
      // A client whose FIN we answered with ours (or that is closing) takes no more input.
      if (!conn.socket.writable) continue;
      if (conn.write(chunk) || stdinWaitsFor.has(conn)) continue;
      stdinWaitsFor.add(conn);
      conn.trace('note', { detail: 'stdin paused until this client reads' });
      conn.socket.once('drain', () => release(conn));
    }
    if (stdinWaitsFor.size > 0) process.stdin.pause();
  });
  process.stdin.once('end', () => {
    inputEnded = true;
    for (const conn of clients) void conn.closeWrite();
  });
  await aborted(signal);
  stopped = true;
  process.stdin.pause();
  for (const conn of clients) conn.close();
}

type ListenFlags = { keepOpen?: boolean } & TlsServerFlags & LimitFlags;
