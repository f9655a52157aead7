/**
 * LineUser is a chat user for tests: a real client process (`ncat`) or a real socket, whose
 * received lines can be awaited. Nothing is mocked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** LineUser sends lines and collects the lines it receives. */
export class LineUser {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  #partial = '';
  #waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  readonly #write: (data: string | Uint8Array) => void;
  readonly #end: () => void;

  private constructor(
    source: NodeJS.ReadableStream,
    write: (data: string | Uint8Array) => void,
    end: () => void,
    closed: Promise<void>,
  ) {
    this.#write = write;
    this.#end = end;
    this.closed = closed;
    source.on('data', (chunk: Buffer) => this.#receive(chunk.toString('utf8')));
  }

  /** ncat runs `ncat ARGS` (`HOST PORT`, or `-U PATH`) as a user, exactly as a person would. */
  static ncat(...args: string[]): LineUser {
    const child: ChildProcess = spawn('ncat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin?.on('error', () => {});
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    return new LineUser(
      child.stdout as NodeJS.ReadableStream,
      (data) => child.stdin?.write(data),
      () => child.kill(),
      closed,
    );
  }

  /** socket connects a plain TCP socket as a user (for clients that must misbehave on purpose). */
  static socket(host: string, port: number): LineUser {
    const socket: Socket = connect({ host, port });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const user = new LineUser(
      socket,
      (data) => socket.write(data),
      () => socket.destroy(),
      closed,
    );
    user.#socket = socket;
    return user;
  }

  #socket: Socket | undefined;

  /** pause stops reading (a socket user only): the client that never reads. */
  pause(): void {
    this.#socket?.pause();
  }

  /** sayAndWait sends `line` and resolves once the socket can take more (a socket user only). */
  sayAndWait(line: string): Promise<void> {
    const socket = this.#socket as Socket;
    if (socket.destroyed) return Promise.reject(new Error('the connection is closed'));
    if (socket.write(`${line}\n`)) return Promise.resolve();
    return new Promise((resolve) => socket.once('drain', () => resolve()));
  }

  /** say sends `line` and a newline. */
  say(line: string): void {
    this.#write(`${line}\n`);
  }

  /** send writes raw text, or raw bytes (which need not be UTF-8). */
  send(data: string | Uint8Array): void {
    this.#write(data);
  }

  /** next resolves with the first line received (already or later) that matches `match`. */
  next(match: RegExp, timeout = 5000): Promise<string> {
    const seen = this.lines.find((l) => match.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no line matching ${match} within ${timeout} ms; the last lines were:\n${this.#last()}`,
            ),
          ),
        timeout,
      );
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** quit closes the user's connection. */
  quit(): void {
    this.#end();
  }

  #last(): string {
    return this.lines
      .slice(-5)
      .map((l) => (l.length > 100 ? `${l.slice(0, 100)}… (${l.length} chars)` : l))
      .join('\n');
  }

  #receive(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match.test(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  }
}
