/** `sockkit send URL MESSAGE`: the introduction's client: connect, send, half-close, print the reply. */
import { once } from 'node:events';
import { Command, Option } from 'commander';
import { dial, formatAddress, formatDuration, withDeadline } from '../../index.js';
import { addressArg, durationOption, tracerFor } from '../options/common.js';
import { codecOf, type FrameFlags, sendFramed, withFrameOptions } from '../options/frame.js';
import { type ProxyFlags, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import { type ClientSocketFlags, clientSocketOptionsOf, withClientSocketOptions } from '../options/socket.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { withWebSocketClientOptions } from '../options/websocket.js';
import { addUdpSendFlags, sendUdp, UDP_DEFAULT_TIMEOUT, udpSendOptionsOf } from './udp-send.js';
import { addWebSocketSendFlags, sendWebSocket } from './ws-connect.js';

export function sendCommand(): Command {
  const flags = addWebSocketSendFlags(withWebSocketClientOptions(new Command('send')));
  return withProxyOption(
    withClientSocketOptions(withFrameOptions(withTlsClientOptions(addUdpSendFlags(flags)))),
    'send',
    [
      "sockkit send tcp://example.test:7 'hi' --proxy socks5://127.0.0.1:1080   # the proxy resolves the name",
      'sockkit send tls://example.test:7443 hi --proxy http://alice:secret@127.0.0.1:3128 --trace   # TLS checks example.test',
      "sockkit send tcp://192.0.2.5:7 'hi' --proxy socks5://127.0.0.1:1080 --proxy socks4a://192.0.2.1:1080",
    ],
  )
    .description(
      'Connect to URL, send MESSAGE, half-close (so the server sees EOF), print everything the ' +
        'server sends back to stdout, and exit 0 once it closes. MESSAGE is sent as given; add ' +
        'a newline yourself if the server expects lines.\n\n' +
        'udp://: MESSAGE is one datagram and the first reply is printed; --timeout bounds each ' +
        'attempt and --retries sends again.\n\n' +
        'ws://, wss://: MESSAGE is one text message (binary with --binary); the first message ' +
        'that comes back is printed, then the connection closes (1000).',
    )
    .argument('<url>', 'where to connect, e.g. tcp://127.0.0.1:65432')
    .argument('<message>', 'the bytes to send (UTF-8)')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on the whole exchange')
        .default(
          10_000,
          `${formatDuration(10_000)}; udp://: ${formatDuration(UDP_DEFAULT_TIMEOUT)} per attempt`,
        )
        .argParser(durationOption('--timeout', 1)),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit send tcp://127.0.0.1:65432 'Hello, world'
  sockkit send unix:/tmp/echo.sock "$(date)" --timeout 2s
  sockkit send tcp://localhost:65432 hi --trace   # tries ::1 and 127.0.0.1 in turn
  sockkit send udp://127.0.0.1:7 hi --timeout 500ms --retries 4   # UDP: 500ms per attempt, 5 attempts
  sockkit send udp://192.0.2.255:7 hi --broadcast                 # every reply on the subnet
  sockkit send udp://233.252.0.1:5000 hi --multicast-ttl 2 --no-multicast-loopback
  sockkit send udp://233.252.0.1:5000 hi --join 233.252.0.1 --multicast-interface 192.0.2.10
  sockkit send tcp://127.0.0.1:65432 hi -s 127.0.0.2 -p 40001   # from 127.0.0.2 port 40001 (nc -s -p)
  sockkit send tcp://localhost:65432 hi -4 --connect-timeout 500ms --timeout 5s
  sockkit send udp://127.0.0.1:7 hi --ttl 2                     # each datagram: at most 2 hops

  sockkit send ws://127.0.0.1:8080/echo 'Hello, WebSocket'
  sockkit send wss://localhost:8443/ '{"op":"ping"}' --ca ca.pem -H 'Cookie: s=1'`,
    )
    .action(async (url: string, message: string, options: SendFlags, command: Command) => {
      const address = addressArg('send', url, ['tcp', 'unix', 'udp', 'tls', 'ws', 'wss']);
      const codec = codecOf(options, address, 'send');
      if (address.scheme === 'ws' || address.scheme === 'wss')
        return sendWebSocket(address, message, command);
      const proxy = proxyOptionsOf(options, address);
      const socket = clientSocketOptionsOf('send', address, options);
      if (address.scheme === 'udp')
        return sendUdp(address, message, udpSendOptionsOf(options, command), command, {
          ...socket.packet,
          family: socket.family,
        });
      const deadline = Date.now() + options.timeout;
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: Math.min(options.timeout, socket.connectTimeout ?? options.timeout),
        trace: tracerFor(command, 'client'),
        tls,
        proxy,
        tcp: socket.tcp,
        family: socket.family,
      });
      const exchange = async (): Promise<void> => {
        if (codec) return sendFramed(conn, codec, message, process.stdout);
        await conn.send(message);
        await conn.closeWrite();
        let last: Buffer | undefined;
        for await (const chunk of conn) {
          // Backpressure: a slow reader of our output slows the reading of the reply.
          if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
          last = chunk;
        }
        if (conn.error) throw conn.error;
        if (process.stdout.isTTY && last && last[last.length - 1] !== 0x0a) process.stdout.write('\n');
      };
      try {
        await withDeadline(exchange(), deadline, undefined, formatAddress(address), 'send');
      } finally {
        conn.close();
        await conn.closed;
      }
    });
}

type SendFlags = { timeout: number } & TlsClientFlags & FrameFlags & ProxyFlags & ClientSocketFlags;
