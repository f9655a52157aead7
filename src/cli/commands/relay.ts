/** `sockkit relay A B`: join two active endpoints (client URLs, `-`, programs) both ways. */
import { Command, Option } from 'commander';
import { parseEndpoint, relayEndpoints, type SocketAddress, UsageError } from '../../index.js';
import { durationOption, tracerFor } from '../options/common.js';
import { type ProxyFlags, proxyChainOf, proxyOptionsOf, withProxyOption } from '../options/proxy.js';
import { refuseFlagsOutside } from '../options/scheme-flags.js';
import {
  type ClientSocketFlags,
  type ClientSocketSettings,
  clientSocketOptionsOf,
  withClientSocketOptions,
} from '../options/socket.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import {
  type WebSocketClientFlags,
  webSocketClientOptionsOf,
  withWebSocketClientOptions,
} from '../options/websocket.js';
import { shutdownSignal } from '../run.js';
import { RunningPrograms } from './program-exec.js';

type RelayFlags = { timeout?: number } & TlsClientFlags &
  ProxyFlags &
  WebSocketClientFlags &
  ClientSocketFlags;

export function relayCommand(): Command {
  const sockets = withClientSocketOptions(new Command('relay'), { ttl: false, connectTimeout: false });
  return withProxyOption(withWebSocketClientOptions(withTlsClientOptions(sockets)), 'relay -')
    .description(
      'Join two endpoints that both act: each a client URL (tcp://, tls://, unix:, ws://, wss://), - ' +
        'for stdin and stdout, exec:PROGRAM ARG... or sh:COMMAND. Bytes are copied both ways, each end ' +
        'passed on (half-close), until both directions are closed. A ws:// endpoint is sent each chunk ' +
        'as a binary message and its messages are passed on as their bytes; the end of the other side ' +
        'closes it (1000), and its close ends the other side. A program learns the socket it serves from ' +
        'SOCKKIT_REMOTE_ADDR, SOCKKIT_REMOTE_PORT, ... (and NCAT_REMOTE_ADDR, ... as ncat sets them). ' +
        'The client socket flags (--source, --keepalive, --nodelay, -4/-6) apply to each socket ' +
        'endpoint; --source-port to a single one (a port binds once).',
    )
    .argument('<a>', 'the first endpoint')
    .argument('<b>', 'the second endpoint')
    .addOption(
      new Option('-w, --timeout <duration>', 'bound on connecting each socket').argParser(
        durationOption('--timeout', 1),
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit relay tcp://127.0.0.1:7000 tcp://127.0.0.1:8000       # join two servers to each other
  sockkit relay unix:/run/app.sock -                             # like connect, for a Unix socket
  sockkit relay tcp://127.0.0.1:6379 exec:'redis-cli --pipe'    # a server to a program
  sockkit relay sh:'printf hello' tcp://127.0.0.1:65432          # a shell's output to a server
  sockkit relay - wss://echo.example.test/ --subprotocol chat    # stdin's bytes as binary messages
  sockkit relay ws://127.0.0.1:8080/feed tcp://127.0.0.1:6379     # a WebSocket service to a TCP one
  sockkit relay tcp://127.0.0.1:6379 - -s 127.0.0.2 -p 40001 --keepalive 30s   # from a fixed address and port`,
    )
    .action(async (a: string, b: string, flags: RelayFlags, command: Command) => {
      const endpoints = [parseEndpoint(a), parseEndpoint(b)] as const;
      if (endpoints[0].kind === 'stdio' && endpoints[1].kind === 'stdio')
        throw new UsageError('relay', '- may be only one of the two endpoints');
      const sockets = endpoints.flatMap((e) => (e.kind === 'socket' ? [e.address] : []));
      const tlsAddress: SocketAddress = sockets.find((s) => s.scheme === 'tls' || s.scheme === 'wss') ??
        sockets[0] ?? { scheme: 'unix', path: '-', abstract: false };
      const tls = tlsClientOptionsOf(flags, tlsAddress);
      for (const socket of sockets) proxyOptionsOf(flags, socket); // a unix: or udp:// socket takes no proxy
      const ws = sockets.map((s) => webSocketClientOptionsOf(flags, s)).find((o) => o !== undefined);
      const socketOptions = relaySocketOptionsOf(command, flags, [a, b], sockets);
      // A program endpoint dies with sockkit, however sockkit ends (a second Ctrl-C exits at once).
      const programs = new RunningPrograms();
      await relayEndpoints(endpoints[0], endpoints[1], {
        proxy: proxyChainOf(flags),
        signal: shutdownSignal(),
        trace: tracerFor(command, 'relay'),
        tls,
        ws,
        timeout: flags.timeout,
        tcp: socketOptions?.tcp,
        family: socketOptions?.family,
        stdio: { input: process.stdin, output: process.stdout },
        onProgram: (program) => programs.add(program),
      }).finally(() => programs.dispose());
    });
}

/**
 * relaySocketOptionsOf reads the client socket flags, checked against each socket endpoint. A
 * flag with no socket endpoint of its schemes is a usage error, and so is `--source-port` with two
 * socket endpoints: a port binds once.
 */
function relaySocketOptionsOf(
  command: Command,
  flags: RelayFlags,
  urls: readonly string[],
  sockets: readonly SocketAddress[],
): ClientSocketSettings | undefined {
  refuseFlagsOutside(command, command.options, urls);
  if (flags.sourcePort !== undefined && sockets.length > 1)
    throw new UsageError(
      'relay',
      `--source-port ${flags.sourcePort} would bind both socket endpoints to one port: give it with one socket endpoint only`,
    );
  let settings: ClientSocketSettings | undefined;
  for (const socket of sockets) settings = clientSocketOptionsOf('relay', socket, flags);
  return settings;
}
