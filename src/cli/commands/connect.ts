/** `sockkit connect URL`: netcat's client: stdin to the socket, the socket to stdout. */
import { Command, Option } from 'commander';
import { dial, FramedConn, relay, relayFrames, UsageError } from '../../index.js';
import { type CaptureFlags, captureFor, withCaptureOptions } from '../options/capture.js';
import { addressArg, durationOption, tracerFor } from '../options/common.js';
import { codecOf, type FrameFlags, withFrameOptions } from '../options/frame.js';
import { type ProxyFlags, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { joinProgram, type ProgramFlags, programOfFlags, withProgramOptions } from './program-exec.js';
import { addUdpConnectFlags, connectUdp } from './udp-relay.js';

type ConnectFlags = { timeout?: number } & TlsClientFlags &
  FrameFlags &
  CaptureFlags &
  ProgramFlags &
  ProxyFlags;

export function connectCommand(): Command {
  return withProxyOption(
    withProgramOptions(
      withCaptureOptions(withFrameOptions(addUdpConnectFlags(withTlsClientOptions(new Command('connect'))))),
    ),
  )
    .description(
      'Connect to URL, then copy stdin to the socket and the socket to stdout, byte for byte.\n' +
        'The end of stdin half-closes the connection (the server sees EOF); sockkit exits once the\n' +
        'server has closed too. On a terminal, the server closing ends the session at once.\n\n' +
        'udp://: each stdin chunk (or line, with --lines) is one datagram; replies go\n' +
        'to stdout. After stdin ends, sockkit waits --linger for late replies.',
    )
    .argument('<url>', 'where to connect')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on connecting (not on the session)').argParser(
        durationOption('--timeout', 1),
      ),
    )
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

  sockkit connect tcp://127.0.0.1:9000 --exec 'xxd -p'    # the server's bytes to a program, its output back`,
    )
    .action(async (url: string, options: ConnectFlags, command: Command) => {
      const address = addressArg('connect', url, ['tcp', 'unix', 'tls', 'udp']);
      const codec = codecOf(options, address, 'connect');
      const capture = captureFor(options, 'connect');
      const program = programOfFlags(options);
      if (program && (codec || address.scheme === 'udp'))
        throw new UsageError('connect', `--exec and --sh take a stream address without --frame, not ${url}`);
      const proxy = proxyOptionsOf(options, address);
      if (address.scheme === 'udp') return connectUdp(address, command, capture?.packetTap);
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(command, 'client'),
        tls,
        tap: capture?.streamTap,
        proxy,
      });
      if (program) return joinProgram(conn, program);
      const stopOnPeerClose = process.stdin.isTTY === true;
      if (codec)
        return relayFrames(new FramedConn(conn, codec), process.stdin, process.stdout, { stopOnPeerClose });
      await relay(conn, process.stdin, process.stdout, { stopOnPeerClose });
    });
}
