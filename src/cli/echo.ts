/** `sockkit echo [URL...]`: the echo server (RFC 862) on any number of listeners. */
import { Command, Option } from 'commander';
import { echoStream } from '../services/echo.js';
import { listen } from '../stream/listen.js';
import { serve } from '../stream/serve.js';
import { formatBytes, formatDuration } from '../units.js';
import { addressArg, announceListening, durationOption, tracerFor } from './common.js';
import { shutdownSignal, warn } from './run.js';

/** DEFAULT_ECHO_URL is the introduction's address. */
export const DEFAULT_ECHO_URL = 'tcp://127.0.0.1:65432';

export function echoCommand(): Command {
  return new Command('echo')
    .summary('run an echo server')
    .description(
      'Echo server (RFC 862): every byte a client sends comes back unchanged. Serves any number of\n' +
        'clients at once, on every URL given. A client that half-closes gets the rest of its echo,\n' +
        'then the server closes. SIGINT/SIGTERM shut down gracefully.',
    )
    .argument('[url...]', 'addresses to listen on', [DEFAULT_ECHO_URL])
    .addOption(
      new Option('--grace <duration>', 'time open connections get to finish at shutdown')
        .default(5000, '5s')
        .argParser(durationOption('--grace')),
    )
    .option('--ipv6-only', 'keep tcp://[::]:PORT to IPv6 instead of dual-stack')
    .addHelpText(
      'after',
      `
Examples:
  sockkit echo                                   # tcp://127.0.0.1:65432
  sockkit echo tcp://[::1]:0 unix:/tmp/echo.sock  # IPv6 on any free port, and a Unix socket
  sockkit echo unix:@echo --trace                 # Linux abstract socket, narrated`,
    )
    .action(async (urls: string[], options: { grace: number; ipv6Only?: boolean }, command: Command) => {
      const addresses = urls.map((url) => addressArg('echo', url, ['tcp', 'unix']));
      const trace = tracerFor(command, 'server');
      const signal = shutdownSignal(() =>
        warn(`shutting down (grace ${formatDuration(options.grace)}; Ctrl-C again to force)`),
      );
      const listeners = [];
      for (const address of addresses) {
        const listener = await listen(address, { signal, trace, ipv6Only: options.ipv6Only });
        listeners.push(listener);
        announceListening(listener.addresses);
      }
      const summary = await serve(listeners, echoStream, { signal, grace: options.grace });
      warn(
        `served ${summary.connections} connections, ${formatBytes(summary.bytesReceived)} in, ` +
          `${formatBytes(summary.bytesSent)} out${summary.forciblyClosed ? `, ${summary.forciblyClosed} closed at end of grace` : ''}`,
      );
    });
}
