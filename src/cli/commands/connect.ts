/** `sockkit connect URL`: netcat's client: stdin to the socket, the socket to stdout. */
import { Command, Option } from 'commander';
import { dial, FramedConn, relay, relayFrames } from '../../index.js';
import { addressArg, durationOption, tracerFor } from '../options/common.js';
import { codecOf, type FrameFlags, withFrameOptions } from '../options/frame.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { withWebSocketClientOptions } from '../options/websocket.js';
import { addUdpConnectFlags, connectUdp } from './udp-relay.js';
import { addWebSocketConnectFlags, connectWebSocket, refuseWebSocketFlags } from './ws-connect.js';

type ConnectFlags = { timeout?: number } & TlsClientFlags & FrameFlags;

export function connectCommand(): Command {
  const flags = addWebSocketConnectFlags(withWebSocketClientOptions(new Command('connect')));
  return withFrameOptions(addUdpConnectFlags(withTlsClientOptions(flags)))
    .description(
      'Connect to URL, then copy stdin to the socket and the socket to stdout, byte for byte.\n' +
        'The end of stdin half-closes the connection (the server sees EOF); sockkit exits once the\n' +
        'server has closed too. On a terminal, the server closing ends the session at once.\n\n' +
        'ws://, wss://: each stdin line (each chunk, with --binary) is one message; each message\n' +
        'received goes to stdout, text followed by a newline. The end of stdin closes (1000).\n\n' +
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
  sockkit connect ws://127.0.0.1:8080/ -H 'Authorization: Bearer t0k3n' --subprotocol chat.v1
  sockkit connect wss://127.0.0.1:8443/feed --fingerprint 3A:91:...:7C --ping-interval 20s --ping-timeout 5s
  sockkit connect ws://127.0.0.1:8080/ --reconnect --preamble '{"subscribe":"ticks"}' -v`,
    )
    .action(async (url: string, options: ConnectFlags, command: Command) => {
      const address = addressArg('connect', url, ['tcp', 'unix', 'tls', 'udp', 'ws', 'wss']);
      const codec = codecOf(options, address, 'connect');
      if (address.scheme === 'udp') return connectUdp(address, command);
      if (address.scheme === 'ws' || address.scheme === 'wss') return connectWebSocket(address, command);
      refuseWebSocketFlags(command, address);
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(command, 'client'),
        tls,
      });
      const stopOnPeerClose = process.stdin.isTTY === true;
      if (codec)
        return relayFrames(new FramedConn(conn, codec), process.stdin, process.stdout, { stopOnPeerClose });
      await relay(conn, process.stdin, process.stdout, { stopOnPeerClose });
    });
}
