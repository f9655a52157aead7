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

/**
 * runCli runs `sockkit ARGS` to completion, feeding it `input` on stdin (or nothing). With
 * `slowReader`, its stdout is read one chunk per turn of the event loop, so output piles up in
 * the pipe as it does for a slow consumer.
 */
export function runCli(
  args: readonly string[],
  options: { input?: string | Buffer; timeout?: number; env?: NodeJS.ProcessEnv; slowReader?: boolean } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
  });
  const done = collect(child, options.timeout ?? 8000);
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
  /** stderr so far. */
  stderr(): string;
  /** done settles when the process exits by itself. */
  readonly done: Promise<CliResult>;
}

/**
 * startCli starts `sockkit ARGS` and resolves once it has printed `listens` lines of
 * `listening on URL` on stderr. It rejects if the process exits first.
 */
export function startCli(
  args: readonly string[],
  options: { listens?: number; timeout?: number; stdin?: 'pipe' | 'ignore' } = {},
): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const done = collect(child, options.timeout ?? 30_000);
  let err = '';
  return new Promise((resolve, reject) => {
    const urls: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const found = [...err.matchAll(/^listening on (\S+)$/gm)].map((m) => m[1] as string);
      if (found.length >= (options.listens ?? 1) && urls.length === 0) {
        urls.push(...found);
        resolve({
          child,
          urls,
          done,
          stderr: () => err,
          stop: (signal = 'SIGINT') => {
            child.kill(signal);
            return done;
          },
        });
      }
    });
    done.then((result) => reject(new Error(`sockkit exited early (${result.code}): ${result.stderr}`)));
  });
}

function collect(child: ChildProcess, timeout: number): Promise<CliResult> {
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
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
