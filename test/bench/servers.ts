/**
 * Real services for bench's request/response tests, started by the tests and killed when the test
 * process exits: memcached (Debian's package) and a length-prefixed server in Python. Redis comes
 * from test/chat/redis-server.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from '../chat/redis-server.js';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Service is a server process a test started, and where it listens. */
export interface Service {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function track(child: ChildProcess, url: string): Service {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** accepting resolves once 127.0.0.1:`port` accepts a connection, trying again after each refusal until `deadline`. */
async function accepting(port: number, child: ChildProcess, deadline = Date.now() + 5000): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before listening`);
    const socket = connect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    socket.destroy();
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing accepts on port ${port}`);
    await new Promise((resolve) => setImmediate(resolve)); // one turn of the event loop, no fixed sleep
  }
}

/** startMemcached runs memcached on a free loopback TCP port (UDP off) and resolves once it accepts. */
export async function startMemcached(): Promise<Service> {
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn('memcached', [...user, '-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '16'], {
    stdio: 'ignore',
  });
  const service = track(child, `tcp://127.0.0.1:${port}`);
  await accepting(port, child);
  return service;
}

/** SERVE_ON_LOOPBACK ends a Python asyncio server script: `serve` on a free loopback port, printed once listening. */
const SERVE_ON_LOOPBACK = `
async def main():
    server = await asyncio.start_server(serve, '127.0.0.1', 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
`;

/**
 * LENGTH_PREFIXED_SERVER is a Python server for a protocol someone wrote: each request is a frame
 * with a 2-byte big-endian length; the reply is one such frame holding `ok:` and the request.
 * A request `slow` is answered after 50 ms. It prints its port once it listens.
 */
const LENGTH_PREFIXED_SERVER = `
import asyncio, struct, sys
async def serve(reader, writer):
    try:
        while True:
            header = await reader.readexactly(2)
            (length,) = struct.unpack('>H', header)
            payload = await reader.readexactly(length)
            if payload == b'slow':
                await asyncio.sleep(0.05)
            reply = b'ok:' + payload
            writer.write(struct.pack('>H', len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
${SERVE_ON_LOOPBACK}`;

/** startPython runs a Python server `script` and resolves once it has printed its port (`scheme` on loopback). */
async function startPython(script: string, scheme: 'tcp' | 'udp'): Promise<Service> {
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return track(child, `${scheme}://127.0.0.1:${Number.parseInt(chunk.toString(), 10)}`);
}

/** startLengthPrefixedServer runs LENGTH_PREFIXED_SERVER and resolves once it has printed its port. */
export function startLengthPrefixedServer(): Promise<Service> {
  return startPython(LENGTH_PREFIXED_SERVER, 'tcp');
}

/**
 * UDP_SERVER is a Python UDP service: each datagram is answered with one holding `ok:` and the
 * request, except that a request holding `drop` is never answered and one holding `twice` is
 * answered twice. It prints its port once bound.
 */
const UDP_SERVER = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print(s.getsockname()[1], flush=True)
while True:
    data, peer = s.recvfrom(65535)
    if b'drop' in data:
        continue
    s.sendto(b'ok:' + data, peer)
    if b'twice' in data:
        s.sendto(b'ok:' + data, peer)
`;

/** startUdpServer runs UDP_SERVER and resolves once it has printed its port. */
export function startUdpServer(): Promise<Service> {
  return startPython(UDP_SERVER, 'udp');
}

/**
 * DELIMITED_SERVER is a Python server for a protocol whose messages end with `\r\n\r\n` (as HTTP
 * headers do): each request is answered with `ok:` and the request, delimiter included, written
 * in three parts a millisecond apart: two bytes, then all but the delimiter's last two bytes,
 * then those. So the client reads each reply in pieces, its delimiter split across reads. A
 * request `quit` is answered, then the connection closed. It prints its port once it listens.
 */
const DELIMITED_SERVER = `
import asyncio
END = b'\\r\\n\\r\\n'
async def serve(reader, writer):
    try:
        while True:
            request = await reader.readuntil(END)
            reply = b'ok:' + request
            for part in (reply[:2], reply[2:-2], reply[-2:]):
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.001)
            if request == b'quit' + END:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    writer.close()
${SERVE_ON_LOOPBACK}`;

/** startDelimitedServer runs DELIMITED_SERVER and resolves once it has printed its port. */
export function startDelimitedServer(): Promise<Service> {
  return startPython(DELIMITED_SERVER, 'tcp');
}
