/** `sockkit listen URL [--keep-open]`: netcat's server: accept a client, relay it to stdin/stdout. */
import { Command } from 'commander';
import { AbortError, type Conn, fanOut, listen, relay, UsageError } from '../../index.js';
import { type CaptureFlags, captureFor, withCaptureOptions } from '../options/capture.js';
import { addressArg, announceListening, tracerFor } from '../options/common.js';
import { guardFor, type LimitFlags, refuseLimitFlags, withLimitOptions } from '../options/limits.js';
import { type ServerSocketFlags, serverSocketOptionsOf, withServerSocketOptions } from '../options/socket.js';
import { type TlsServerFlags, tlsServerOptionsOf, withTlsServerOptions } from '../options/tls.js';
import { withWebSocketServerOptions } from '../options/websocket.js';
import { shutdownSignal } from '../run.js';
import { quitAfterEof, quitAfterEofOption } from './connect.js';
import {
  DEFAULT_PROGRAM_CLIENTS,
  type ProgramFlags,
  programOfFlags,
  serveProgram,
  withProgramOptions,
} from './program-exec.js';
import { addUdpListenFlags, listenUdp } from './udp-relay.js';
import { addWebSocketListenFlags, listenWebSocketCli } from './ws-listen.js';

export function listenCommand(): Command {
  const flags = addWebSocketListenFlags(withWebSocketServerOptions(new Command('listen')));
  return withServerSocketOptions(
    withCaptureOptions(addUdpListenFlags(withProgramOptions(withLimitOptions(withTlsServerOptions(flags))))),
  )
    .description(
      'Listen on URL, accept one client, and relay it to stdin/stdout as `connect` does; exit once ' +
        'it is done. With --keep-open, keep accepting: what clients send goes to stdout, and stdin ' +
        'goes to every connected client, at the pace of the slowest (one that leaves no longer ' +
        'holds the others back). With --exec or --sh, each client is joined to its own program: ' +
        `with --keep-open, ${DEFAULT_PROGRAM_CLIENTS} at once at most unless --max-connections says otherwise.\n\n` +
        'udp://: prints the datagrams of the first peer (with --keep-open, of every ' +
        'peer) and sends stdin to the peer heard from last, as nc -u -l does.\n\n' +
        "ws://, wss://: a WebSocket server at the URL's path: each message received goes to stdout " +
        '(text followed by a newline), each stdin line is one message to the client (to every ' +
        'client, with --keep-open).',
    )
    .argument('<url>', 'where to listen, e.g. tcp://127.0.0.1:0')
    .option('-k, --keep-open', 'keep accepting clients after the first')
    .addOption(quitAfterEofOption('the client'))
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
  sockkit listen udp://0.0.0.0:5000 --join 233.252.0.1 --multicast-ttl 4 --no-multicast-loopback
  sockkit listen tcp://127.0.0.1:9000 -k --hexdump      # who said what, in hex and text, on stderr
  sockkit listen tcp://127.0.0.1:9000 -k --pcap server.pcapng   # open it in Wireshark: Follow TCP Stream

  sockkit listen tcp://127.0.0.1:9000 --exec cat        # each byte back, through a program (ncat -e)
  sockkit listen tcp://127.0.0.1:9000 -k --sh 'wc -c'   # one shell per client; it answers after EOF
  sockkit listen tcp://[::]:9000 --ipv6-only --keepalive 30s   # IPv6 clients only; probe idle ones
  sockkit listen tcp://127.0.0.1:9000 -q 1s < reply.txt   # send a reply, quit 1s after it went (nc -l -q 1)
  sockkit listen ws://127.0.0.1:8080/chat --keep-open             # wscat -c ws://127.0.0.1:8080/chat
  sockkit listen wss://0.0.0.0:8443/ --self-signed --allow-origin https://app.example --max-per-ip 4`,
    )
    .action(async (url: string, options: ListenFlags, command: Command) => {
      const address = addressArg('listen', url, ['tcp', 'unix', 'tls', 'udp', 'ws', 'wss']);
      if (address.scheme === 'ws' || address.scheme === 'wss') return listenWebSocketCli(address, command);
      // --exec and --sh on udp:// are refused with every scheme-bound flag (their help says tcp/tls/unix).
      const program = programOfFlags(options);
      if (options.quitAfterEof !== undefined && (options.keepOpen || program))
        throw new UsageError(
          'listen',
          `--quit-after-eof ends the one client relayed to stdin and stdout, not ${options.keepOpen ? '--keep-open' : '--exec or --sh'}`,
        );
      const socket = serverSocketOptionsOf(options);
      if (address.scheme === 'udp') {
        refuseLimitFlags(options, 'listen udp:// (use sockkit echo or serve for a limited UDP server)');
        return listenUdp(address, command, {
          ipv6Only: socket.ipv6Only,
          tap: captureFor(options, 'listen')?.packetTap,
        });
      }
      const capture = captureFor(options, 'listen');
      const tls = await tlsServerOptionsOf(options, [address]);
      // Each client of --keep-open --exec is a process: their number is bounded by default.
      const limits =
        program && options.keepOpen
          ? { ...options, maxConnections: options.maxConnections ?? DEFAULT_PROGRAM_CLIENTS }
          : options;
      const guard = guardFor(limits, command);
      const signal = shutdownSignal();
      const listener = await listen(address, {
        signal,
        trace: tracerFor(command, 'server'),
        tls,
        guard,
        tap: capture?.streamTap,
        ...socket,
      });
      announceListening(listener.addresses);
      if (program) return serveProgram(listener, program, { keepOpen: options.keepOpen === true, signal });
      if (options.keepOpen) {
        await fanOut(listener, process.stdin, process.stdout, { signal, inputName: 'stdin' });
        return;
      }
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (err instanceof AbortError) return;
        throw err;
      }
      await listener.close();
      if (options.quitAfterEof !== undefined) quitAfterEof(conn, options.quitAfterEof);
      await relay(conn, process.stdin, process.stdout, {
        signal,
        stopOnPeerClose: process.stdin.isTTY === true,
      });
    });
}

type ListenFlags = { keepOpen?: boolean; quitAfterEof?: number } & TlsServerFlags &
  LimitFlags &
  CaptureFlags &
  ProgramFlags &
  ServerSocketFlags;
