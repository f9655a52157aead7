/** `sockkit echo [URL...]`: the echo server (RFC 862) on any number of listeners. */
import { Argument, Command } from 'commander';
import { services } from '../../index.js';
import { type ServiceRunOptions, withServiceOptions } from '../options/service.js';
import { DEFAULT_ECHO_URL, runService } from './serve.js';

export function echoCommand(): Command {
  const command = new Command('echo')
    .description(
      'Echo server (RFC 862): every byte a client sends comes back unchanged. Serves any number of ' +
        'clients at once, on every URL given. A client that half-closes gets the rest of its echo, ' +
        'then the server closes. SIGINT, SIGTERM and SIGHUP shut down gracefully. ' +
        'The short form of `sockkit serve echo`: the same flags and the same default address.',
    )
    .addArgument(new Argument('[url...]', 'addresses to listen on').default(undefined, DEFAULT_ECHO_URL));
  return withServiceOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  sockkit echo                                   # ${DEFAULT_ECHO_URL}
  sockkit echo tcp://[::1]:0 unix:/tmp/echo.sock  # IPv6 on any free port, and a Unix socket
  sockkit echo unix:@echo --trace                 # Linux abstract socket, narrated
  sockkit echo udp://127.0.0.1:0 udp://[::1]:0     # UDP: each datagram goes back to its sender
  sockkit echo udp://127.0.0.1:0 --receive-buffer 4MiB   # absorb bursts
  sockkit echo udp://127.0.0.1:0 -v               # say the datagram path: native batch, or dgram and why
  sockkit echo tcp://0.0.0.0:7007 --workers 4     # four processes share one port
  sockkit echo tcp://127.0.0.1:0 --delay 200ms --throttle 10k   # a slow, far server
  sockkit echo tcp://[::]:7007 --ipv6-only --backlog 1024 --keepalive 30s

  sockkit echo ws://127.0.0.1:8080/echo            # WebSocket: each message comes back as it came
  sockkit echo wss://[::]:8443/ --self-signed --allow-origin https://app.example --ping-interval 30s`,
    )
    .action(async (urls: string[], options: ServiceRunOptions, cmd: Command) => {
      await runService('echo', services.echo, urls, options, cmd);
    });
}
