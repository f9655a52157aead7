/**
 * A program as an endpoint (`exec:`, `sh:`, `--exec`, `--sh`): a child process whose stdin and
 * stdout are the connection, as ncat's `-e` and `-c` make, with end-of-file passed on both ways.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { SocketAddress } from '../address.js';
import { IoError, PermissionDeniedError, type SockkitError } from '../errors.js';
import { formatEndpoint, type Program } from './endpoint.js';
import { type BridgeSide, endWritable } from './side.js';

/** DEFAULT_PROGRAM_GRACE is how long a program gets to exit by itself once its bridge is over, in ms. */
export const DEFAULT_PROGRAM_GRACE = 2000;

/** ProgramOptions tune `startProgram`. */
export interface ProgramOptions {
  /** The connection the program serves: its addresses go into the environment (see `programEnv`). */
  readonly connection?:
    | { readonly localAddress: SocketAddress; readonly remoteAddress: SocketAddress }
    | undefined;
  /** The environment, before the connection's variables are added. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /**
   * Once the bridge is over, how long the program may take to exit after its stdin is closed,
   * before it is sent SIGTERM (and as long again before SIGKILL), in ms. Default 2000.
   */
  readonly grace?: number | undefined;
  /** Where the program's stderr goes: this process's stderr (the default), or nowhere. */
  readonly stderr?: 'inherit' | 'ignore' | undefined;
}

/** ProgramExit is how a program ended: its exit code, or the signal that ended it. */
export interface ProgramExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** ProgramSide is the BridgeSide of a running program. */
export interface ProgramSide extends BridgeSide {
  readonly child: ChildProcess;
  /** exited resolves once the program has exited and been reaped. It never rejects. */
  readonly exited: Promise<ProgramExit>;
  /**
   * kill sends SIGKILL at once, synchronously, to the program's process group, unless the
   * program has exited by itself (what it started then keeps running, as with `close`). It is
   * for a caller that cannot wait for `close`'s grace: a process about to exit.
   */
  kill(): void;
}

/**
 * programEnv gives the variables a program learns its connection from, under sockkit's names and
 * ncat's (for scripts written for `ncat -e`): `SOCKKIT_REMOTE_ADDR`, `SOCKKIT_REMOTE_PORT`,
 * `SOCKKIT_LOCAL_ADDR`, `SOCKKIT_LOCAL_PORT`, `SOCKKIT_PROTO` (`tcp`, `tls`, `udp`, `unix`), and
 * `NCAT_REMOTE_ADDR`, `NCAT_REMOTE_PORT`, `NCAT_LOCAL_ADDR`, `NCAT_LOCAL_PORT`, `NCAT_PROTO`
 * (`TCP`, `UDP`, `SCTP`… in ncat: here `TCP` for tcp and tls). A Unix socket has no ports: its
 * path is the local address and the remote one is empty.
 */
export function programEnv(connection: NonNullable<ProgramOptions['connection']>): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, value: string): void => {
    env[`SOCKKIT_${name}`] = value;
    env[`NCAT_${name}`] = value;
  };
  const { localAddress, remoteAddress } = connection;
  for (const [side, address] of [
    ['LOCAL', localAddress],
    ['REMOTE', remoteAddress],
  ] as const) {
    if (address.scheme === 'unix') set(`${side}_ADDR`, address.path);
    else {
      set(`${side}_ADDR`, address.host);
      set(`${side}_PORT`, String(address.port));
    }
  }
  env.SOCKKIT_PROTO = localAddress.scheme;
  env.NCAT_PROTO = localAddress.scheme === 'udp' ? 'UDP' : localAddress.scheme === 'unix' ? 'UNIX' : 'TCP';
  return env;
}

/**
 * startProgram runs `program` with pipes for stdin and stdout (its stderr is this process's) and
 * resolves, once it has started, with its BridgeSide. Its end is handled as ncat's exec mode
 * should: the end of what is written closes its stdin, so it reads EOF and may still answer; its
 * closing stdout is the end of what is read. `close` closes its stdin and stops reading it, then
 * sends SIGTERM after `grace` if it has not exited (SIGKILL after as long again), to its process
 * group: what it started ends with it. `closed` resolves once it has exited and been reaped. Rejects with IoError (`exec exec:nosuch: no such
 * program`) or PermissionDeniedError when it cannot start.
 */
export function startProgram(program: Program, options: ProgramOptions = {}): Promise<ProgramSide> {
  const name = formatEndpoint({ kind: 'program', program });
  const env = options.connection
    ? { ...(options.env ?? process.env), ...programEnv(options.connection) }
    : (options.env ?? process.env);
  const grace = options.grace ?? DEFAULT_PROGRAM_GRACE;
  // The program leads a process group of its own, so that ending it ends what it started too
  // (the commands of `sh:`, a pipeline's stages): signalling the program alone leaves them
  // running, reparented to init, holding sockkit's stderr. Being detached (a session of its own,
  // no controlling terminal), it no longer gets the terminal's Ctrl-C: sockkit ends it instead.
  const child = spawn(program.file, [...program.args], {
    stdio: ['pipe', 'pipe', options.stderr ?? 'inherit'],
    env,
    detached: true,
  });
  const stdin = child.stdin as NonNullable<ChildProcess['stdin']>;
  const stdout = child.stdout as NonNullable<ChildProcess['stdout']>;
  // A program that exits stops reading: writing its stdin then fails (EPIPE), as may reading its
  // stdout once we stop. Both are expected, handled by the bridge (see join), never uncaught.
  stdin.on('error', () => {});
  stdout.on('error', () => {});
  const exited = new Promise<ProgramExit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let timers: NodeJS.Timeout[] = [];
  void exited.then(() => {
    for (const timer of timers) clearTimeout(timer);
  });
  let closing = false;
  const side: ProgramSide = {
    name,
    child,
    exited,
    readable: stdout,
    writable: stdin,
    onData: (listener) => stdout.on('data', listener),
    write: (chunk) => stdin.write(chunk),
    closeWrite: () => endWritable(stdin),
    close: () => {
      if (closing) return;
      closing = true;
      stdin.end();
      stdout.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = (signal: NodeJS.Signals) => () => {
        if (child.exitCode === null && child.signalCode === null) killGroup(child, signal);
      };
      timers = [setTimeout(kill('SIGTERM'), grace), setTimeout(kill('SIGKILL'), 2 * grace)];
      // A program ended by a signal takes with it what it left behind (a command that ignores
      // SIGTERM, under a shell that did not). One that exited by itself keeps what it started.
      void exited.then((exit) => {
        if (exit.signal !== null) killGroup(child, 'SIGKILL');
      });
    },
    kill: () => {
      if (child.exitCode === null) killGroup(child, 'SIGKILL');
    },
    closed: exited.then(() => {}),
    closesItself: false,
  };
  return new Promise((resolve, reject) => {
    child.once('spawn', () => {
      child.off('error', onError);
      // After it started, a failure to signal it (it is gone already) must not be uncaught.
      child.on('error', () => {});
      resolve(side);
    });
    const onError = (err: NodeJS.ErrnoException): void => reject(spawnError(name, err));
    child.once('error', onError);
  });
}

/**
 * killGroup sends `signal` to the process group `child` leads (see startProgram). The group may
 * be empty already (everything in it exited): nothing is left to end then.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: no process is left in the group.
  }
}

function spawnError(name: string, err: NodeJS.ErrnoException): SockkitError {
  switch (err.code) {
    case 'ENOENT':
      return new IoError('exec', name, 'no such program (not found in PATH)', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new PermissionDeniedError('exec', name, 'permission denied (the file is not executable)', {
        cause: err,
      });
    default:
      return new IoError('exec', name, `the program could not start (${err.code ?? err.message})`, {
        cause: err,
      });
  }
}
