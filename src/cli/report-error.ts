/**
 * reportError: an error as one line on stderr and an exit code (CONVENTIONS.md). Commands call
 * the library and let errors reach it; main.ts loads it only when something failed.
 */
import { CommanderError } from 'commander';
import { isUsageCode, SockkitError, UsageError } from '../index.js';
import { netcatHint } from './netcat-habits.js';
import { EXIT_FAILURE, EXIT_USAGE, warn } from './run.js';

/**
 * reportError prints `err` as one line on stderr and returns the exit code it maps to: 2 for
 * usage errors, 1 for everything else. A stack trace is printed only with `debug`.
 */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (!(err instanceof SockkitError)) {
    warn(
      `internal error: ${err instanceof Error ? err.message : String(err)} (run with --debug for details)`,
    );
    return EXIT_FAILURE;
  }
  if (isUsageCode(err.code)) {
    // `listen 9000` is netcat's way to say `listen tcp://127.0.0.1:9000`: say so, on the same line.
    const hint = netcatHint(process.argv.slice(2));
    warn(inFlagWords(err) + (hint ? `; did you mean: ${hint}` : ''));
    return EXIT_USAGE;
  }
  warn(err.message + hintFor(err));
  return EXIT_FAILURE;
}

/**
 * inFlagWords writes a library usage error as a command line user reads it: the option it names
 * (`multicastTtl`) becomes the flag that sets it (`--multicast-ttl`).
 */
function inFlagWords(err: SockkitError): string {
  const option = err instanceof UsageError ? err.option : undefined;
  if (!option) return err.message;
  const flag = `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return err.message.replace(`: ${option} `, `: ${flag} `);
}

function hintFor(err: SockkitError): string {
  // A Unix path's reason already says what is wrong with it; hints about ports would mislead.
  const unix = err.url.startsWith('unix:');
  switch (err.code) {
    case 'ERR_CONNECTION_REFUSED':
      return ' (is a server listening there?)';
    case 'ERR_NO_REPLY':
      // A WebSocket server that closed without replying said so itself: no hint.
      return err.url.startsWith('udp://')
        ? ' (UDP promises no delivery: is a server listening there? a firewall may drop datagrams silently)'
        : '';
    case 'ERR_ADDRESS_IN_USE':
      return unix ? '' : ' (another process holds it; pick another port, or port 0 for any free one)';
    case 'ERR_PERMISSION_DENIED':
      if (err.op === 'send' && err.url.startsWith('udp://'))
        return ' (a broadcast address needs --broadcast)';
      return err.op === 'listen' && !unix ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
    default:
      return '';
  }
}
