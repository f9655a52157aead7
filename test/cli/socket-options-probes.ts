/**
 * What the socket option tests look at: a plain TCP server that hands out each accepted socket,
 * the keepalive timers `ss` shows for established connections, and a command's usage error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { type Command, CommanderError } from 'commander';
import { UsageError } from '../../src/index.js';

const run = promisify(execFile);

/** plainServer listens on `host` and hands out each accepted socket; it never writes or closes by itself. */
export async function plainServer(
  host = '127.0.0.1',
): Promise<{ server: Server; port: number; next: () => Promise<Socket> }> {
  const server = createServer();
  const waiting: Socket[] = [];
  server.on('connection', (socket) => waiting.push(socket));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const next = async (): Promise<Socket> => {
    while (waiting.length === 0) await once(server, 'connection');
    return waiting.shift() as Socket;
  };
  return { server, port: (server.address() as AddressInfo).port, next };
}

/** timersOf returns the `timer:(...)` of the established sockets `filter` selects, as `ss -tno` shows them. */
export async function timersOf(filter: string): Promise<string[]> {
  const { stdout } = await run('ss', ['-Htno', 'state', 'established', filter]);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => /timer:\(([^)]*)\)/.exec(line)?.[1] ?? 'none');
}

/**
 * keepaliveLeft reads the time left on a keepalive timer as ss prints it (`keepalive,6.9sec,0`;
 * some versions write `8.980ms` for 8.98 s): the number, NaN for another timer. The kernel's own
 * default idle (7200 s) prints as `119min`, far above any bound a test sets.
 */
export function keepaliveLeft(timer: string | undefined): number {
  return Number(/^keepalive,([\d.]+)/.exec(timer ?? '')?.[1]);
}

/** freePort returns a TCP port free on `host` just now, for a client to bind (`--source-port`). */
export async function freePort(host: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** connectOutcome connects to `host`:`port` and resolves with `connected` or the error's code (`ECONNREFUSED`). */
export async function connectOutcome(host: string, port: number): Promise<string | undefined> {
  const socket = connect({ host, port });
  const outcome = await new Promise<string | undefined>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
  socket.destroy();
  return outcome;
}

/** refusal runs `command` in this process on `args` and returns the message of the usage error it fails with. */
export async function refusal(command: Command, args: readonly string[]): Promise<string> {
  command.exitOverride().configureOutput({ writeErr: () => {} });
  const failed = await command.parseAsync(args, { from: 'user' }).then(
    () => assert.fail(`no usage error for ${args.join(' ')}`),
    (err: unknown) => err as Error,
  );
  assert.ok(failed instanceof UsageError || failed instanceof CommanderError, String(failed));
  return failed.message;
}
