/**
 * A server with a known capacity, for `--slo` and `--compare` tests: it answers each line with
 * `+OK\r\n`, in order, but never more than `perSecond` replies a second in all (a token bucket
 * filled by the clock), so above that rate its queue, and latency, grow without end.
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** RateLimitedServer is a running server: its URL, and how to close it. */
export interface RateLimitedServer {
  readonly url: string;
  /** setRate changes the capacity, from now on. */
  setRate(perSecond: number): void;
  close(): Promise<void>;
}

const OK = Buffer.from('+OK\r\n');

/** startRateLimitedServer listens on 127.0.0.1, port 0, answering at most `perSecond` lines a second. */
export async function startRateLimitedServer(perSecond: number): Promise<RateLimitedServer> {
  let rate = perSecond;
  let origin = performance.now();
  let released = 0;
  const queue: Socket[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      for (const byte of chunk) if (byte === 0x0a) queue.push(socket);
      release();
    });
  });
  // A timer tick releases what the clock allows since the start: a late tick catches up, never more.
  const release = (): void => {
    const allowed = Math.floor(((performance.now() - origin) * rate) / 1000) - released;
    const burst = Math.min(allowed, queue.length);
    for (let i = 0; i < burst; i += 1) {
      const socket = queue.shift() as Socket;
      if (!socket.destroyed) socket.write(OK);
    }
    released += burst;
    // An idle server does not bank tokens: capacity is a rate, not a reserve.
    if (queue.length === 0) {
      origin = performance.now();
      released = 0;
    }
  };
  const timer = setInterval(release, 1);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setRate(perSecond) {
      rate = perSecond;
      origin = performance.now();
      released = 0;
    },
    close() {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
