/**
 * socketOptions reads a live socket's options from the kernel (getsockopt), through a python3
 * child that inherits the socket's descriptor: what the kernel applies, not what Node was asked.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

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
