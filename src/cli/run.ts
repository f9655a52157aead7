/**
 * The CLI's edge: turning errors into one line and an exit code (CONVENTIONS.md), and signals
 * into an AbortSignal. Commands call the library and let errors reach `reportError`.
 */
import { CommanderError } from 'commander';
import { isUsageCode, SockkitError, UsageError } from '../errors.js';

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
  if (!(err instanceof SockkitError)) {
    warn(
      `internal error: ${err instanceof Error ? err.message : String(err)} (run with --debug for details)`,
    );
    return EXIT_FAILURE;
  }
  if (isUsageCode(err.code)) {
    warn(inFlagWords(err));
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
      return ' (UDP promises no delivery: is a server listening there? a firewall may drop datagrams silently)';
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

/**
 * stopWhenOutputCloses makes the process exit quietly, with 0, when whoever reads its stdout goes
 * away (`sockkit send ... | head`): what it would still print has no reader, as with netcat.
 */
export function stopWhenOutputCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    warn(`write stdout: ${err.message}`);
    process.exit(EXIT_FAILURE);
  });
}

/**
 * exitFlushed ends the process with `code` once what was written to stdout and stderr has been
 * handed to the system. When they are pipes, Node writes them asynchronously, and a bare
 * `process.exit` drops whatever is still queued: the tail of a reply, for a reader slower than
 * the network. A reader that has gone away (`| head`) fails the write, which ends the wait too.
 */
export async function exitFlushed(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  // An empty write's callback runs once every write queued before it is done (or has failed).
  return new Promise((resolve) => stream.write('', () => resolve()));
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
