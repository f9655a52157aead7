/**
 * `--exec PROGRAM` (`-e`) and `--sh COMMAND` (`-c`) on `listen` and `connect`, as ncat's `-e` and
 * `-c`: the connection becomes the program's stdin and stdout.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  type Conn,
  connSide,
  formatAddress,
  formatEndpoint,
  isLoopbackHost,
  join,
  type Listener,
  type Program,
  type ProgramSide,
  programOf,
  type SocketAddress,
  serve,
  startProgram,
  UsageError,
} from '../../index.js';
import { warn } from '../run.js';

/**
 * DEFAULT_PROGRAM_CLIENTS is how many clients `listen --keep-open --exec/--sh` serves at once
 * unless `--max-connections` says otherwise, as ncat's `--max-conns` defaults to 100: each client
 * is a process, and without a bound a flood of connections is a flood of processes.
 */
export const DEFAULT_PROGRAM_CLIENTS = 100;

/** ProgramFlags are the parsed `--exec` and `--sh`. */
export interface ProgramFlags {
  exec?: string;
  sh?: string;
}

/**
 * withProgramOptions adds `-e, --exec` and `-c, --sh` to `listen` or `connect`. Their help names
 * the schemes they apply to, so that on any other (udp://, ws://) they are refused, never ignored.
 */
export function withProgramOptions(command: Command): Command {
  return command
    .option(
      '-e, --exec <program>',
      'tcp/tls/unix: join the connection to PROGRAM ARG... (words split as sh would; no shell)',
    )
    .option(
      '-c, --sh <command>',
      'tcp/tls/unix: join the connection to /bin/sh -c COMMAND (pipes, redirections)',
    );
}

/** programOfFlags returns the Program `--exec` or `--sh` names, or undefined; UsageError for both at once. */
export function programOfFlags(flags: ProgramFlags): Program | undefined {
  if (flags.exec !== undefined && flags.sh !== undefined)
    throw new UsageError('--exec', 'use either --exec or --sh, not both');
  if (flags.exec !== undefined) return programOf(flags.exec, false);
  if (flags.sh !== undefined) return programOf(flags.sh, true);
  return undefined;
}

/**
 * serveProgram joins clients of `listener` to `program`, one child each: the first client only
 * (the listener is then closed), or every client until `signal` with `keepOpen`. It resolves once
 * every child has exited.
 */
export async function serveProgram(
  listener: Listener,
  program: Program,
  options: { keepOpen: boolean; signal: AbortSignal },
): Promise<void> {
  warnIfShellExposed(listener.addresses, program);
  if (!options.keepOpen) {
    const conn = await listener.accept().catch(() => undefined);
    await listener.close();
    if (conn) await joinProgram(conn, program, options.signal);
    return;
  }
  const programs = new RunningPrograms();
  const running = new Set<Promise<void>>();
  try {
    await serve(
      [listener],
      (conn) => {
        const done = joinProgram(conn, program, undefined, programs);
        running.add(done);
        void done.then(() => running.delete(done));
      },
      { signal: options.signal, grace: 0 },
    );
    await Promise.all(running);
  } finally {
    programs.dispose();
  }
}

/**
 * joinProgram starts `program` for `conn` and joins them until both directions are done. A
 * program that cannot start closes the connection, and is reported on stderr. Should sockkit
 * exit first (a second Ctrl-C), the program's process group is killed as it does (see
 * RunningPrograms); `programs` shares that watch among the clients of one listener.
 */
export async function joinProgram(
  conn: Conn,
  program: Program,
  signal?: AbortSignal,
  programs?: RunningPrograms,
): Promise<void> {
  const child = await startProgram(program, { connection: conn }).catch((err: Error) => {
    warn(err.message);
    process.exitCode = 1;
    conn.close();
    return undefined;
  });
  if (!child) return;
  const watch = programs ?? new RunningPrograms();
  watch.add(child);
  try {
    await join(connSide(conn, formatAddress(conn.remoteAddress)), child, { signal });
  } finally {
    if (!programs) watch.dispose();
  }
}

/**
 * RunningPrograms kills, as this process exits, the process group of every program it holds
 * that is still running. A program is ended gently (stdin closed, SIGTERM, then SIGKILL once its
 * grace is over) while sockkit waits for it; but sockkit may exit before then (a second Ctrl-C
 * exits at once), and a program in a group of its own, with no terminal, is not ended by that:
 * one that ignores SIGTERM and never reads would run on for ever. The 'exit' handler runs on
 * every exit but SIGKILL's, which nothing can handle. One listener on `process` per instance,
 * however many programs: dispose removes it.
 */
export class RunningPrograms {
  readonly #programs = new Set<ProgramSide>();
  readonly #onExit = (): void => {
    for (const side of this.#programs) side.kill();
  };

  constructor() {
    process.on('exit', this.#onExit);
  }

  /** add watches `side` until it has exited. */
  add(side: ProgramSide): void {
    this.#programs.add(side);
    void side.exited.then(() => this.#programs.delete(side));
  }

  /** dispose stops watching: this process exiting kills nothing any more. */
  dispose(): void {
    process.off('exit', this.#onExit);
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'fish', 'csh', 'tcsh', 'ash', 'busybox']);

/**
 * warnIfShellExposed prints one line when a shell (`--sh`, or `--exec` of a shell) serves a
 * listener other hosts can reach: whoever connects runs commands as this user.
 */
export function warnIfShellExposed(addresses: readonly SocketAddress[], program: Program): void {
  if (!program.shell && !SHELLS.has(basename(program.file))) return;
  const exposed = addresses.filter((a) => a.scheme !== 'unix' && !isLoopbackHost(a.host));
  if (exposed.length === 0) return;
  warn(
    `warning: ${exposed.map(formatAddress).join(', ')} is reachable from other hosts and runs a shell ` +
      `(${formatEndpoint({ kind: 'program', program })}) for each client: anyone who connects can run commands as this user`,
  );
}
