/** `sockkit wait URL... [-- COMMAND]`: wait until services accept connections, then run a command. */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { Command, Option } from 'commander';
import {
  formatAddress,
  formatDuration,
  plural,
  type SocketAddress,
  UsageError,
  waitFor,
} from '../../index.js';
import { addressArg, durationDefault, durationOption, tracerFor } from '../options/common.js';
import { familyOf } from '../options/raw-output.js';
import { type TlsClientFlags, tlsClientOptionsOf, withTlsClientOptions } from '../options/tls.js';
import { shutdownSignal, warn } from '../run.js';

type WaitFlags = {
  timeout: number;
  attemptTimeout: number;
  send?: string;
  expect?: string;
  quiet?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
} & TlsClientFlags;

/** waitCommand builds `sockkit wait`. */
export function waitCommand(): Command {
  return withTlsClientOptions(new Command('wait'))
    .description(
      'Try every URL again and again, with back-off (100ms doubling to 2s) and a bound on each ' +
        'attempt, until all of them accept a connection: a TCP or Unix connect, a finished TLS ' +
        'handshake for tls://, and with --expect a reply containing DATA (after sending --send). ' +
        'udp:// needs --expect (a datagram service is up when it answers). Then exit 0, or run ' +
        'the COMMAND after `--` and exit with its code. At --timeout, exit 1 naming every URL that ' +
        'never came up and why.',
    )
    .argument('<url...>', 'tcp://host:port, tls://host:port, unix:/path, udp://host:port (with --expect)')
    .addOption(
      new Option('-w, --timeout <duration>', 'how long to wait for everything')
        .default(...durationDefault(30_000))
        .argParser(durationOption('--timeout', 1)),
    )
    .addOption(
      new Option('--attempt-timeout <duration>', 'the bound on each attempt (connect, handshake, reply)')
        .default(...durationDefault(1000))
        .argParser(durationOption('--attempt-timeout', 1, 600_000)),
    )
    .option('--send <data>', 'send DATA once connected (the datagram, for udp://)')
    .option('--expect <data>', 'up only once the reply contains DATA')
    .option('-q, --quiet', 'print nothing but errors')
    .option('-4, --ipv4', 'use IPv4 only')
    .option('-6, --ipv6', 'use IPv6 only')
    .addHelpText(
      'after',
      `
Examples:
  sockkit wait tcp://127.0.0.1:5432 unix:/run/app.sock --timeout 30s
  sockkit wait tcp://localhost:6379 --send $'PING\\r\\n' --expect PONG -- redis-cli ping
  sockkit wait tls://127.0.0.1:8443 --ca ca.pem -q -- ./start-frontend.sh
  sockkit wait udp://127.0.0.1:7 --send hi --expect hi --attempt-timeout 200ms
After --, the command runs directly (no shell): wrap it in sh -c '...' for pipes.`,
    )
    .action(async (words: string[], flags: WaitFlags, command: Command) => {
      const { urls, program } = splitCommand(words);
      if (urls.length === 0) throw new UsageError('wait', 'give at least one URL to wait for');
      const addresses = urls.map((url) => addressArg('wait', url, ['tcp', 'tls', 'unix', 'udp']));
      const family = familyOf('wait', flags);
      const tlsAddress =
        addresses.find((address) => address.scheme === 'tls') ?? (addresses[0] as SocketAddress);
      const tls = tlsClientOptionsOf(flags, tlsAddress);
      const say = (line: string): void => {
        if (!flags.quiet) process.stderr.write(`${line}\n`);
      };
      await waitFor(addresses, {
        timeout: flags.timeout,
        attemptTimeout: flags.attemptTimeout,
        send: flags.send,
        expect: flags.expect,
        family,
        tls,
        signal: shutdownSignal(),
        trace: tracerFor(command, 'wait'),
        onUp: (ready) =>
          say(
            `${formatAddress(ready.address)} is up after ${formatDuration(Math.round(ready.elapsed))} (${plural(ready.attempts, 'attempt')})`,
          ),
      });
      if (program.length > 0) process.exitCode = await run(program);
    });
}

/**
 * splitCommand separates the URLs from the command after `--`: commander hands both over as one
 * list of operands, so the words after the first `--` of the command line are the command.
 */
function splitCommand(words: string[]): { urls: string[]; program: string[] } {
  const dash = process.argv.indexOf('--');
  const program = dash < 0 ? [] : process.argv.slice(dash + 1);
  return { urls: words.slice(0, words.length - program.length), program };
}

/** run runs `program` with our standard streams and resolves with its exit code (128 + signal when killed). */
function run(program: string[]): Promise<number> {
  const [file, ...args] = program as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    // Ctrl-C reaches the child through the terminal; a signal sent to us alone is passed on.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'command not found' : (err.code ?? err.message);
      warn(`wait: run ${file}: ${why}`);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}
