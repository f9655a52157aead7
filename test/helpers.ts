/**
 * Test helpers: run the real CLI as a child process, wait for the `listening on URL` lines it
 * prints, and make temporary folders. Nothing here mocks a socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** CLI is the built command line's entry point. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** CliResult is what a finished CLI run left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** CliLaunch says how to start the CLI, beyond its arguments. */
export interface CliLaunch {
  /** Flags for node itself, before the CLI's path: `['--import', preload]`. */
  readonly nodeArgs?: readonly string[];
  /**
   * A program the CLI runs under, with its arguments, that runs the command line it is given
   * after them: `['ip', 'netns', 'exec', ns]`, `['setpriv', '--reuid=65534']`, or a shell,
   * `['sh', '-c', 'ulimit -n 128 && exec "$@"', 'sh']`. Its exit status is the result's.
   */
  readonly wrapper?: readonly string[];
  /** The environment; the test's own by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** The process is killed (SIGKILL) after this many ms if it has not ended. */
  readonly timeout?: number;
}

/**
 * runCli runs `sockkit ARGS` to completion, feeding it `input` on stdin (or nothing). With
 * `slowReader`, its stdout is read one chunk per turn of the event loop, so output piles up in
 * the pipe as it does for a slow consumer.
 */
export function runCli(
  args: readonly string[],
  options: CliLaunch & { input?: string | Buffer; slowReader?: boolean } = {},
): Promise<CliResult> {
  const child = spawnCli(args, options, 'pipe');
  const { done } = collect(child, options.timeout ?? 8000);
  if (options.slowReader) {
    const stdout = child.stdout as NodeJS.ReadableStream;
    stdout.on('data', () => {
      stdout.pause();
      setImmediate(() => stdout.resume());
    });
  }
  child.stdin?.on('error', () => {});
  child.stdin?.end(options.input ?? '');
  return done;
}

/** Running is a CLI process started in the background. */
export interface Running {
  readonly child: ChildProcess;
  /** The URLs from its `listening on URL` lines. */
  readonly urls: string[];
  /** stop sends `signal` (SIGINT by default) and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  /** stdout so far, as text. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  /**
   * waitFor resolves with the match once `pattern` appears on `stream` (stderr by default); it
   * rejects if the process exits first or after `timeout` ms.
   */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeout?: number): Promise<RegExpMatchArray>;
  /** done settles when the process exits by itself. */
  readonly done: Promise<CliResult>;
}

/**
 * startCli starts `sockkit ARGS` and resolves once it has printed `listens` lines of
 * `listening on URL` on stderr (one by default; with 0, at once, for clients). It rejects if
 * the process exits first.
 */
export function startCli(
  args: readonly string[],
  options: CliLaunch & { listens?: number; stdin?: 'pipe' | 'ignore' } = {},
): Promise<Running> {
  const child = spawnCli(args, options, options.stdin ?? 'ignore');
  child.stdin?.on('error', () => {});
  const output = collect(child, options.timeout ?? 30_000);
  const { done } = output;
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  const urls: string[] = [];
  const running: Running = {
    child,
    urls,
    done,
    stdout: () => output.stdout().toString(),
    stderr: output.stderr,
    stop: (signal = 'SIGINT') => {
      if (!exited) child.kill(signal);
      return done;
    },
    waitFor: (pattern, stream = 'stderr', timeout = 5000) =>
      new Promise((resolve, reject) => {
        const text = stream === 'stdout' ? running.stdout : running.stderr;
        const check = (): void => {
          const match = pattern.exec(text());
          if (match) finish(() => resolve(match));
          else if (exited)
            finish(() => reject(new Error(`sockkit exited before printing ${pattern}: ${text()}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${pattern} on ${stream} within ${timeout}ms: ${text()}`))),
          timeout,
        );
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          child[stream]?.off('data', onData);
          then();
        };
        // The collector's listener was registered first, so the chunk is in `text()` by now.
        const onData = (): void => check();
        child[stream]?.on('data', onData);
        void done.then(check);
        check();
      }),
  };
  const wanted = options.listens ?? 1;
  if (wanted === 0) return Promise.resolve(running);
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const found = [...output.stderr().matchAll(/^listening on (\S+)$/gm)].map((m) => m[1] as string);
      if (found.length < wanted) return;
      child.stderr?.off('data', onData);
      urls.push(...found);
      resolve(running);
    };
    child.stderr?.on('data', onData);
    done.then((result) => reject(new Error(`sockkit exited early (${result.code}): ${result.stderr}`)));
  });
}

/** runProgram runs any `command ARGS` to completion (stdin closed), killing it after `timeout` ms. */
export function runProgram(command: string, args: readonly string[], timeout = 8000): Promise<CliResult> {
  return collect(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }), timeout).done;
}

/** spawnCli starts the built CLI with `args`, as `options` says, with stdout and stderr piped. */
function spawnCli(args: readonly string[], options: CliLaunch, stdin: 'pipe' | 'ignore'): ChildProcess {
  const [command = process.execPath, ...prefix] = [
    ...(options.wrapper ?? []),
    ...(options.wrapper ? [process.execPath] : []),
  ];
  const child = spawn(command, [...prefix, ...(options.nodeArgs ?? []), CLI, ...args], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  unfinished.add(child);
  child.on('exit', () => unfinished.delete(child));
  return child;
}

/**
 * The commands started and not yet exited. A test that fails between starting one and stopping it
 * leaves it running; the test file's process (ended by `--test-force-exit` once its tests are
 * done) takes them with it instead of leaving them to the machine.
 */
const unfinished = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of unfinished) child.kill('SIGKILL');
});

/**
 * collect gathers a child's stdout and stderr as they come; `done` settles once it has exited
 * (killed with SIGKILL after `timeout` ms) with everything it wrote.
 */
function collect(
  child: ChildProcess,
  timeout: number,
): { done: Promise<CliResult>; stdout: () => Buffer; stderr: () => string } {
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  return { done, stdout: () => Buffer.concat(out), stderr: () => err };
}

/** tempDir makes a temporary folder and returns it with a function that removes it. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'sockkit-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** hostPort extracts `host` and `port` from a tcp:// or udp:// URL printed by the CLI. */
export function hostPort(url: string): { host: string; port: number } {
  const match = /^\w+:\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(url);
  if (!match) throw new Error(`not a host:port URL: ${url}`);
  return { host: match[1] as string, port: Number(match[2]) };
}
