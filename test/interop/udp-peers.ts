/**
 * Helpers for the UDP interop tests: start a real peer program (python3, ncat, socat), wait until
 * it says it is ready, and watch its output. Every peer is killed when its test ends.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** hasCommand tells whether `name` runs on this machine (for a clear skip reason when it does not). */
export function hasCommand(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Peer is a running peer program. */
export interface Peer {
  readonly child: ChildProcess;
  /** What `ready` matched in stderr (its groups hold, say, the port the peer printed). */
  readonly ready: RegExpExecArray | null;
  /** stdout so far, as text. */
  stdout(): string;
  /** stderr so far. */
  stderr(): string;
  stdoutBytes(): Buffer;
  /** until resolves once stdout holds `text`, or rejects after `timeout` ms or if the peer exits. */
  until(text: string, timeout?: number): Promise<void>;
  /** stop kills the peer (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * startPeer runs `command args` and resolves once its stderr matches `ready` (when given). Rejects
 * with its stderr if it exits first or is not ready within 5 s.
 */
export function startPeer(command: string, args: readonly string[], ready?: RegExp): Promise<Peer> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin?.on('error', () => {});
  const out: Buffer[] = [];
  let err = '';
  let exited = false;
  const closed = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true;
      resolve();
    }),
  );
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  closed.then(() => clearTimeout(kill));
  let readyMatch: RegExpExecArray | null = null;
  const peer: Peer = {
    child,
    get ready() {
      return readyMatch;
    },
    stderr: () => err,
    stdout: () => Buffer.concat(out).toString(),
    stdoutBytes: () => Buffer.concat(out),
    until: (text, timeout = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (peer.stdout().includes(text)) finish(resolve);
          else if (exited)
            finish(() => reject(new Error(`${command} exited; stdout ${peer.stdout()}; stderr ${err}`)));
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${command}: no "${text}" on stdout in time; got ${peer.stdout()}`)),
            ),
          timeout,
        );
        const finish = (then: () => void): void => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          child.off('close', check);
          then();
        };
        child.stdout?.on('data', check);
        child.on('close', check);
        check();
      }),
    stop: () => {
      if (!exited) child.kill('SIGTERM');
      return closed;
    },
  };
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    if (!ready) return resolve(peer);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} not ready in time: ${err}`));
    }, 5000);
    child.stderr?.on('data', () => {
      readyMatch ??= ready.exec(err);
      if (readyMatch) {
        clearTimeout(timer);
        resolve(peer);
      }
    });
    closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`${command} exited early: ${err}`));
    });
  });
}

/** unusedUdpPort finds a UDP port nobody serves on `host`: bind port 0, note it, close it. */
export async function unusedUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
