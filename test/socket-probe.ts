/**
 * Socket options as the kernel holds them, read where Node cannot: `socketOptions` reads a live
 * socket's options (getsockopt) through a python3 child that inherits the socket's descriptor,
 * and `receiveOne` is a UDP peer that reports the TTL a datagram arrived with, and its source.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';

/** KernelSocketOptions are the options socketOptions reads; keepalive times are in seconds. */
export interface KernelSocketOptions {
  nodelay: boolean;
  keepalive: boolean;
  keepidle: number;
  keepintvl: number;
  keepcnt: number;
}

const PROBE = `
import json, socket
s = socket.socket(fileno=3)
get = lambda level, name: s.getsockopt(level, name)
print(json.dumps({
  "nodelay": get(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
  "keepalive": get(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0,
  "keepidle": get(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
  "keepintvl": get(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
  "keepcnt": get(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
}))
s.detach()
`;

/**
 * descriptorOf returns the kernel descriptor of a TCP socket, plain or TLS. Node keeps it on the
 * socket's handle; a TLS socket's handle wraps the TCP handle, which holds it (checked on Node 20).
 */
function descriptorOf(socket: Socket): number {
  type Handle = { fd?: number; _parent?: Handle };
  const handle = (socket as unknown as { _handle?: Handle })._handle;
  const fd = handle?.fd !== undefined && handle.fd >= 0 ? handle.fd : handle?._parent?.fd;
  if (fd === undefined || fd < 0)
    throw new Error('this socket has no descriptor to probe (Node internals changed?)');
  return fd;
}

/** socketOptions resolves with the TCP options the kernel holds for `socket`. */
export function socketOptions(socket: Socket): Promise<KernelSocketOptions> {
  const fd = descriptorOf(socket);
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe', fd] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as KernelSocketOptions);
      else reject(new Error(`python3 getsockopt probe failed (${code}): ${err.trim()}`));
    });
  });
}

/**
 * RECEIVER is a UDP peer that reports what Node cannot: the TTL (or hop limit) each datagram
 * arrived with (IP_RECVTTL, IPV6_RECVHOPLIMIT), and its source. It prints its port, then one
 * JSON line for the first datagram.
 */
const RECEIVER = `
import json, socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
if family == socket.AF_INET:
    s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)  # 12 on Linux; Python 3.11 lacks the name
else:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
data, ancillary, flags, source = s.recvmsg(2048, 256)
ttl = next((int.from_bytes(d[:4], sys.byteorder) for level, kind, d in ancillary), None)
print(json.dumps({"ttl": ttl, "host": source[0], "port": source[1], "data": data.decode()}), flush=True)
`;

/**
 * receiveOne starts RECEIVER on `host` and resolves with its port, the datagram it will report,
 * and `stop`, which ends it (call it when the test ends, whatever happened).
 */
export async function receiveOne(
  host: string,
): Promise<{ port: number; report: Promise<Record<string, unknown>>; stop: () => void }> {
  const child = spawn('python3', ['-c', RECEIVER, host], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const port = Number(first.value);
  if (!Number.isInteger(port)) throw new Error(`the python3 receiver did not start: ${String(first.value)}`);
  const report = iterator.next().then((line) => {
    child.kill();
    return JSON.parse(String(line.value)) as Record<string, unknown>;
  });
  return { port, report, stop: () => child.kill() };
}
