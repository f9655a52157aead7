/**
 * The CLI's edge with the process: one-line diagnostics, exiting once output is flushed, and
 * signals as an AbortSignal. It loads no library module, so `--version` and `--help` stay fast;
 * errors are worded by report-error.ts.
 */
import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isatty } from 'node:tty';

/** EXIT_FAILURE: the operation failed at run time. EXIT_USAGE: the command line was wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** warn writes one diagnostic line to stderr, prefixed `sockkit: `. */
export function warn(message: string): void {
  process.stderr.write(`sockkit: ${message}\n`);
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
 * SHUTDOWN_SIGNALS end a server gracefully: Ctrl-C, a service manager's stop, and the hangup a
 * terminal or SSH session sends as it closes (a server is not cut off mid-transfer by that).
 */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * shutdownSignal returns a signal that aborts on the first SIGINT, SIGTERM or SIGHUP, so a server
 * can shut down gracefully; a second one exits at once, with 128 + its number as a shell would
 * report a process it killed (130 for Ctrl-C).
 */
export function shutdownSignal(onFirst?: () => void): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(128 + (osConstants.signals[signal] ?? 0));
    onFirst?.();
    controller.abort();
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  surviveHangup();
  return controller.signal;
}

/**
 * surviveHangup lets a server outlive its terminal (the SSH session closed) and still shut down
 * gracefully, with its own exit code:
 * - A diagnostic line written to a terminal that is gone fails (EIO); it has nowhere else to go,
 *   and must not end the process as an unhandled 'error' would.
 * - At exit, Node restores the mode of every standard stream that was a terminal, and Node 20
 *   aborts (SIGABRT) when that terminal is gone (nodejs/node#51519, fixed later by
 *   nodejs/node#58200). A terminal that hung up no longer answers as one: its descriptor is
 *   closed first, so Node leaves it alone.
 */
function surviveHangup(): void {
  const terminals = [0, 1, 2].filter((fd) => isatty(fd));
  if (terminals.length === 0) return;
  if (terminals.includes(2)) process.stderr.on('error', () => {});
  process.once('exit', () => {
    for (const fd of terminals) {
      if (isatty(fd)) continue;
      try {
        closeSync(fd);
      } catch {
        // Already closed: nothing to restore either.
      }
    }
  });
}
