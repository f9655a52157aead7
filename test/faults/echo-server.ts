/**
 * Test helper: an echo server with faults, in-process, on a real listener (tcp on loopback port 0,
 * or a Unix socket), and a plain `net` client that records every read with its time.
 */
import { connect, type Socket } from 'node:net';
import { parseAddress, type SocketAddress } from '../../src/address.js';
import type { FaultPlan } from '../../src/faults/fault-plan.js';
import { StreamFaults, type StreamFaultsOptions } from '../../src/faults/stream-faults.js';
import { type Listener, listen } from '../../src/stream/listen.js';
import { type ServeSummary, serve } from '../../src/stream/serve.js';

/** FaultyEcho is an echo server with faults, and how to stop it. */
export interface FaultyEcho {
  readonly faults: StreamFaults;
  readonly listener: Listener;
  stop(): Promise<ServeSummary>;
}

/** faultyEcho serves `faults.echo` on `url` (tcp://127.0.0.1:0 by default). */
export async function faultyEcho(
  plan: FaultPlan,
  url = 'tcp://127.0.0.1:0',
  options: StreamFaultsOptions = {},
): Promise<FaultyEcho> {
  const faults = new StreamFaults(plan, options);
  const controller = new AbortController();
  const listener = await listen(parseAddress(url), { signal: controller.signal });
  const served = serve([listener], faults.echo, { signal: controller.signal, grace: 0 });
  return {
    faults,
    listener,
    stop: () => {
      controller.abort();
      return served;
    },
  };
}

/** Read is one chunk a client read, and when (performance.now, ms). */
export interface Read {
  readonly at: number;
  readonly data: Buffer;
}

/** Outcome is how a client's connection ended: the reads, then EOF or an error code. */
export interface Outcome {
  readonly reads: Read[];
  readonly received: Buffer;
  /** 'eof' for a FIN, 'closed' when the test closed it, else the error's code (ECONNRESET). */
  readonly end: string;
  readonly endedAt: number;
}

/**
 * converse connects to `address`, lets `talk` write, and resolves once the connection has ended
 * (EOF or error), with everything read. The socket is destroyed after EOF.
 */
export function converse(address: SocketAddress, talk: (socket: Socket) => void): Promise<Outcome> {
  const target =
    address.scheme === 'unix' ? { path: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve) => {
    const reads: Read[] = [];
    const socket = connect(target, () => talk(socket));
    let ended = false;
    const finish = (end: string): void => {
      if (ended) return;
      ended = true;
      socket.destroy();
      resolve({ reads, received: Buffer.concat(reads.map((r) => r.data)), end, endedAt: performance.now() });
    };
    socket.on('data', (data: Buffer) => reads.push({ at: performance.now(), data }));
    socket.once('end', () => finish('eof'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    // Closed by this side (the test destroyed it): neither EOF nor an error.
    socket.once('close', () => finish('closed'));
  });
}
