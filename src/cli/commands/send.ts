/** `sockkit send URL MESSAGE`: the introduction's client: connect, send, half-close, print the reply. */
import { once } from 'node:events';
import { Command, Option } from 'commander';
import { dial, formatAddress, withDeadline } from '../../index.js';
import { addressArg, durationOption, tracerFor } from '../options/common.js';
import { codecOf, type FrameFlags, sendFramed, withFrameOptions } from '../options/frame.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { withWebSocketClientOptions } from '../options/websocket.js';
import { addUdpSendFlags, sendUdp, udpSendOptionsOf } from './udp-send.js';
import { addWebSocketSendFlags, refuseWebSocketFlags, sendWebSocket } from './ws-connect.js';

export function sendCommand(): Command {
  const flags = addWebSocketSendFlags(withWebSocketClientOptions(new Command('send')));
  return withFrameOptions(withTlsClientOptions(addUdpSendFlags(flags)))
    .description(
      'Connect to URL, send MESSAGE, half-close (so the server sees EOF), print everything the\n' +
        'server sends back to stdout, and exit 0 once it closes. MESSAGE is sent as given; add\n' +
        'a newline yourself if the server expects lines.\n\n' +
        'udp://: MESSAGE is one datagram and the first reply is printed. --timeout\n' +
        '(default 1s there) bounds each attempt and --retries (default 2) sends again.\n\n' +
        'ws://, wss://: MESSAGE is one text message (binary with --binary); the first message\n' +
        'that comes back is printed, then the connection closes (1000).',
    )
    .argument('<url>', 'where to connect, e.g. tcp://127.0.0.1:65432')
    .argument('<message>', 'the bytes to send (UTF-8)')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on the whole exchange')
        .default(10_000, '10s')
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
  sockkit send ws://127.0.0.1:8080/echo 'Hello, WebSocket'
  sockkit send wss://localhost:8443/ '{"op":"ping"}' --ca ca.pem -H 'Cookie: s=1'`,
    )
    .action(async (url: string, message: string, options: SendFlags, command: Command) => {
      const address = addressArg('send', url, ['tcp', 'unix', 'udp', 'tls', 'ws', 'wss']);
      const codec = codecOf(options, address, 'send');
      if (address.scheme === 'ws' || address.scheme === 'wss')
        return sendWebSocket(address, message, command);
      refuseWebSocketFlags(command, address);
      if (address.scheme === 'udp')
        return sendUdp(address, message, udpSendOptionsOf(options, command), command);
      const deadline = Date.now() + options.timeout;
      const tls = tlsClientOptionsOf(options, address);
      const conn = await dial(address, {
        timeout: options.timeout,
        trace: tracerFor(command, 'client'),
        tls,
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

type SendFlags = { timeout: number } & TlsClientFlags & FrameFlags;
