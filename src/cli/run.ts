/**
 * The CLI's edge: turning errors into one line and an exit code (CONVENTIONS.md), and signals
 * into an AbortSignal. Commands call the library and let errors reach `reportError`.
 */
import { CommanderError } from 'commander';
import { SockkitError, UsageError } from '../errors.js';

/** EXIT_FAILURE: the operation failed at run time. EXIT_USAGE: the command line was wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** warn writes one diagnostic line to stderr, prefixed `sockkit: `. */
export function warn(message: string): void {
  process.stderr.write(`sockkit: ${message}\n`);
}

/**
 * reportError prints `err` as one line on stderr and returns the exit code it maps to: 2 for
 * usage errors, 1 for everything else. A stack trace is printed only with `debug`.
 */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (err instanceof UsageError) {
    warn(err.message);
    return EXIT_USAGE;
  }
  if (err instanceof SockkitError) {
    warn(err.message + hintFor(err));
    return EXIT_FAILURE;
  }
  warn(`internal error: ${err instanceof Error ? err.message : String(err)} (run with --debug for details)`);
  return EXIT_FAILURE;
}

function hintFor(err: SockkitError): string {
  switch (err.code) {
    case 'ERR_CONNECTION_REFUSED':
      return ' (is a server listening there?)';
    case 'ERR_NO_REPLY':
      return ' (UDP promises no delivery: is a server listening there? a firewall may drop datagrams silently)';
    case 'ERR_ADDRESS_IN_USE':
      return ' (another process holds it; pick another port, or port 0 for any free one)';
    case 'ERR_PERMISSION_DENIED':
      if (err.op === 'send' && err.url.startsWith('udp://'))
        return ' (a broadcast address needs --broadcast)';
      return err.op === 'listen' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
    default:
      return '';
  }
}

/**
 * shutdownSignal returns a signal that aborts on the first SIGINT or SIGTERM, so a server can
 * shut down gracefully; a second one exits at once.
 */
export function shutdownSignal(onFirst?: () => void): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
