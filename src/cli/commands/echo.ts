/** `sockkit echo [URL...]`: the echo server (RFC 862) on any number of listeners. */
import { Command, Option } from 'commander';
import { parseCount, services, UsageError } from '../../index.js';
import { durationOption } from '../options/common.js';
import { withLimitOptions, withReplyBudgetOption } from '../options/limits.js';
import { withTlsServerOptions } from '../options/tls.js';
import { withWebSocketServerOptions } from '../options/websocket.js';
import { runService, type ServiceRunOptions } from './serve.js';
import { isWorker, prepareWorker, runWorkers } from './workers.js';

/** DEFAULT_ECHO_URL is the introduction's address. */
export const DEFAULT_ECHO_URL = 'tcp://127.0.0.1:65432';

export function echoCommand(): Command {
  const command = new Command('echo')
    .description(
      'Echo server (RFC 862): every byte a client sends comes back unchanged. Serves any number of\n' +
        'clients at once, on every URL given. A client that half-closes gets the rest of its echo,\n' +
        'then the server closes. SIGINT, SIGTERM and SIGHUP shut down gracefully.',
    )
    .argument('[url...]', 'addresses to listen on', [DEFAULT_ECHO_URL])
    .addOption(
      new Option('--grace <duration>', 'time open connections get to finish at shutdown')
        .default(5000, '5s')
        .argParser(durationOption('--grace', 0)),
    )
    .option('--ipv6-only', 'keep tcp://[::]:PORT to IPv6 instead of dual-stack')
    .addOption(
      new Option('--workers <n>', 'tcp/tls: spread the listeners over N processes (one per core)')
        .default(1)
        .argParser((v) => parseCount(v, '--workers', 1, 256)),
    )
    .addHelpText(
      'after',
      `
Examples:
  sockkit echo                                   # tcp://127.0.0.1:65432
  sockkit echo tcp://[::1]:0 unix:/tmp/echo.sock  # IPv6 on any free port, and a Unix socket
  sockkit echo unix:@echo --trace                 # Linux abstract socket, narrated
  sockkit echo udp://127.0.0.1:0 udp://[::1]:0     # UDP: each datagram goes back to its sender
  sockkit echo tcp://0.0.0.0:7007 --workers 4     # four processes share one port
  sockkit echo ws://127.0.0.1:8080/echo            # WebSocket: each message comes back as it came
  sockkit echo wss://[::]:8443/ --self-signed --allow-origin https://app.example --ping-interval 30s`,
    )
    .action(async (urls: string[], options: ServiceRunOptions & { workers: number }, command: Command) => {
      if (options.workers > 1 && options.selfSigned)
        throw new UsageError(
          '--self-signed',
          'each worker would make its own certificate: use --cert/--key with --workers',
        );
      if (options.workers > 1 && !isWorker()) return runWorkers('echo', options.workers, urls);
      if (isWorker()) prepareWorker();
      // The short form of `sockkit serve echo`: one code path for both.
      await runService('echo', services.echo, urls, options, command);
    });
  return withWebSocketServerOptions(withReplyBudgetOption(withLimitOptions(withTlsServerOptions(command))));
}
