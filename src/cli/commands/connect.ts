/** `sockkit connect URL`: netcat's client: stdin to the socket, the socket to stdout. */
import { Command, Option } from 'commander';
import { type Conn, dial, FramedConn, relay, relayFrames, UsageError } from '../../index.js';
import { type CaptureFlags, captureFor, withCaptureOptions } from '../options/capture.js';
import { addressArg, durationOption, tracerFor } from '../options/common.js';
import { codecOf, type FrameFlags, withFrameOptions } from '../options/frame.js';
import { type ProxyFlags, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import { type ClientSocketFlags, clientSocketOptionsOf, withClientSocketOptions } from '../options/socket.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { withWebSocketClientOptions } from '../options/websocket.js';
import { shutdownSignal } from '../run.js';
import { joinProgram, type ProgramFlags, programOfFlags, withProgramOptions } from './program-exec.js';
import { addUdpConnectFlags, connectUdp } from './udp-relay.js';
import { addWebSocketConnectFlags, connectWebSocket } from './ws-connect.js';

type ConnectFlags = { timeout?: number; quitAfterEof?: number } & TlsClientFlags &
  FrameFlags &
  CaptureFlags &
  ProgramFlags &
  ProxyFlags &
  ClientSocketFlags;

export function connectCommand(): Command {
  const flags = addWebSocketConnectFlags(withWebSocketClientOptions(new Command('connect')));
  const command = withFrameOptions(addUdpConnectFlags(withTlsClientOptions(flags)));
  return withProxyOption(
    withProgramOptions(withCaptureOptions(withClientSocketOptions(command, { connectTimeout: false }))),
  )
    .description(
      'Connect to URL, then copy stdin to the socket and the socket to stdout, byte for byte. ' +
        'The end of stdin half-closes the connection (the server sees EOF); sockkit exits once the ' +
        'server has closed too. On a terminal, the server closing ends the session at once.\n\n' +
        'ws://, wss://: each stdin line (each chunk, with --binary) is one message; each message ' +
        'received goes to stdout, text followed by a newline. The end of stdin closes (1000).\n\n' +
        'udp://: each stdin chunk (or line, with --lines) is one datagram; replies go ' +
        'to stdout. After stdin ends, sockkit waits --linger for late replies.',
    )
    .argument('<url>', 'where to connect')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on connecting (not on the session), as nc -w').argParser(
        durationOption('--timeout', 1),
      ),
    )
    .addOption(quitAfterEofOption('the server'))
    .addHelpText(
      'after',
      `
Examples:
  sockkit connect tcp://127.0.0.1:65432              # type lines, see them echoed
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockkit connect tcp://127.0.0.1:8080
  sockkit connect unix:/tmp/echo.sock < file.bin > copy.bin
  sockkit connect udp://127.0.0.1:7                  # UDP: each line typed is one datagram
  printf 'a\\nb\\n' | sockkit connect udp://[::1]:7 --lines --linger 2s   # two datagrams, 2s for replies
  echo hello | sockkit connect tcp://127.0.0.1:7 --hexdump   # see each chunk both ways on stderr
  echo hello | sockkit connect tcp://127.0.0.1:7 --pcap hello.pcapng && tshark -r hello.pcapng

  sockkit connect tcp://127.0.0.1:9000 --exec 'xxd -p'    # the server's bytes to a program, its output back

  sockkit connect tcp://127.0.0.1:65432 -s 127.0.0.2 -p 40001 --keepalive 30s   # nc -s -p, keepalive
  echo hi | sockkit connect tcp://127.0.0.1:65432 -q 1s   # quit 1s after stdin ends (nc -q 1)
  sockkit connect -4 tcp://localhost:65432             # IPv4 addresses only

  sockkit connect ws://127.0.0.1:8080/ -H 'Authorization: Bearer t0k3n' --subprotocol chat.v1
  sockkit connect wss://127.0.0.1:8443/feed --fingerprint 3A:91:...:7C --ping-interval 20s --ping-timeout 5s
  sockkit connect ws://127.0.0.1:8080/ --reconnect --preamble '{"subscribe":"ticks"}' -v`,
    )
    .action(async (url: string, options: ConnectFlags, command: Command) => {
      const address = addressArg('connect', url, ['tcp', 'unix', 'tls', 'udp', 'ws', 'wss']);
      const codec = codecOf(options, address, 'connect');
      const capture = captureFor(options, 'connect');
      const program = programOfFlags(options);
      if (program && codec)
        throw new UsageError('connect', '--exec and --sh take the bytes of the connection: not with --frame');
      const proxy = proxyOptionsOf(options, address);
      const socket = clientSocketOptionsOf('connect', address, options);
      if (address.scheme === 'udp') {
        return connectUdp(address, command, {
          ...socket.packet,
          family: socket.family,
          tap: capture?.packetTap,
        });
      }
      if (address.scheme === 'ws' || address.scheme === 'wss') return connectWebSocket(address, command);
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(command, 'client'),
        tls,
        tap: capture?.streamTap,
        proxy,
        tcp: socket.tcp,
        family: socket.family,
      });
      if (program) return joinProgram(conn, program, shutdownSignal());
      if (options.quitAfterEof !== undefined) quitAfterEof(conn, options.quitAfterEof);
      const stopOnPeerClose = process.stdin.isTTY === true;
      if (codec)
        return relayFrames(new FramedConn(conn, codec), process.stdin, process.stdout, { stopOnPeerClose });
      await relay(conn, process.stdin, process.stdout, { stopOnPeerClose });
    });
}

/** quitAfterEofOption is `-q, --quit-after-eof DURATION` (netcat's `-q`), for `connect` and `listen`. */
export function quitAfterEofOption(peer: string): Option {
  return new Option(
    '-q, --quit-after-eof <duration>',
    `tcp/tls/unix: once stdin has ended and been sent, wait this long, then quit even if ${peer} has not closed (nc -q)`,
  ).argParser(durationOption('--quit-after-eof', 0));
}

/**
 * quitAfterEof closes `conn` `delay` ms after its write side finished (stdin ended and every byte
 * of it went out, with our FIN), whether or not the server has closed: netcat's `-q`. The relay
 * then ends as it does when the connection closes.
 */
export function quitAfterEof(conn: Conn, delay: number): void {
  conn.socket.once('finish', () => {
    const timer = setTimeout(() => conn.close(), delay);
    conn.socket.once('close', () => clearTimeout(timer));
  });
}
