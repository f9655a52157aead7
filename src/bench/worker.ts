/**
 * Worker threads for `--threads N`: each thread runs its own load loop on its own event loop, and
 * the main thread drives it through the LoadEngine interface with a few messages a second
 * (counters, and the interval's histogram compressed), never per message.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { SockkitError } from '../errors.js';
import { DatagramLoad } from './datagram-load.js';
import { decodeHistogram, encodeHistogram, newHistogram } from './latency.js';
import {
  type ConnectOutcome,
  type Counters,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  zeroCounters,
} from './load.js';
import { type PackedError, packError, unpackError } from './packed-error.js';
import { StreamLoad } from './stream-load.js';
import { WebSocketLoad } from './websocket-load.js';

/** createEngine makes the load loop for the plan's transport, in this thread. */
export function createEngine(plan: LoadPlan): LoadEngine {
  switch (plan.address.scheme) {
    case 'udp':
      return new DatagramLoad(plan);
    case 'ws':
    case 'wss':
      return new WebSocketLoad(plan);
    default:
      return new StreamLoad(plan);
  }
}

type Command = 'connect' | 'start' | 'sample' | 'stop';
interface Reply {
  readonly id: number;
  readonly outcome?: { opened: number; error?: PackedError | undefined };
  readonly sample?: { counters: Counters; histogram: string; open: number };
  readonly error?: PackedError;
  /** Sent unasked (id 0) when every connection of the thread has failed. */
  readonly idle?: true;
}

/**
 * WorkerEngine runs a load loop in a worker thread and drives it from this one. Errors keep
 * their class and code across the boundary (see packed-error.ts). Should the thread itself be
 * lost, the run goes on without it: the connections it still held count as errors (`other`).
 */
export class WorkerEngine implements LoadEngine {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #lastId = 0;
  /** Why the thread is gone, once it is. */
  #lost: Error | undefined;
  /** Connections open at the last word from the thread: what is lost with it. */
  #open = 0;
  #onIdle: (() => void) | undefined;

  constructor(plan: LoadPlan) {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { sockkitBench: plan } });
    this.#worker.on('message', (reply: Reply) => {
      if (reply.idle) return this.#idle();
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
    const lose = (err: Error): void => {
      this.#lost ??= err;
      this.#idle();
      for (const answer of this.#pending.values()) answer({ id: 0, error: packError(this.#lost) });
      this.#pending.clear();
    };
    this.#worker.on('error', lose);
    this.#worker.on('exit', (code) => lose(new Error(`bench worker exited (code ${code})`)));
  }

  async connect(): Promise<ConnectOutcome> {
    const { outcome } = await this.#ask('connect');
    this.#open = outcome?.opened ?? 0;
    const error = outcome?.error && (unpackError(outcome.error) as SockkitError);
    return { opened: this.#open, error };
  }

  start(onIdle?: () => void): void {
    this.#onIdle = onIdle;
    void this.#ask('start').catch(() => {});
  }

  async sample(): Promise<LoadSample> {
    if (this.#lost) return this.#lostSample();
    try {
      return this.#received(await this.#ask('sample'));
    } catch {
      return this.#lostSample();
    }
  }

  async stop(): Promise<LoadSample> {
    if (this.#lost) return this.#lostSample();
    try {
      return this.#received(await this.#ask('stop'));
    } catch {
      return this.#lostSample();
    } finally {
      await this.#worker.terminate();
    }
  }

  #received(reply: Reply): LoadSample {
    const sample = reply.sample;
    if (!sample) throw new Error('bench worker sent no sample');
    this.#open = sample.open;
    return { counters: sample.counters, open: sample.open, histogram: decodeHistogram(sample.histogram) };
  }

  /** #lostSample is the sample of a thread that is gone: its open connections failed, once. */
  #lostSample(): LoadSample {
    const counters = zeroCounters();
    counters.errors.other += this.#open;
    this.#open = 0;
    return { counters, histogram: newHistogram(), open: 0 };
  }

  /** #idle tells the driver, once, that this thread has no connection left. */
  #idle(): void {
    const onIdle = this.#onIdle;
    this.#onIdle = undefined;
    onIdle?.();
  }

  #ask(command: Command): Promise<Reply> {
    if (this.#lost) return Promise.reject(this.#lost);
    const id = ++this.#lastId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => (reply.error ? reject(unpackError(reply.error)) : resolve(reply)));
      this.#worker.postMessage({ id, command });
    });
  }
}

/** serveCommands is the worker side: run the engine, answer each command. */
function serveCommands(plan: LoadPlan): void {
  const port = parentPort;
  if (!port) return;
  const engine = createEngine(plan);
  const pack = (s: LoadSample): Reply['sample'] => ({
    counters: s.counters,
    open: s.open,
    histogram: encodeHistogram(s.histogram),
  });
  port.on('message', async ({ id, command }: { id: number; command: Command }) => {
    try {
      if (command === 'connect') {
        const { opened, error } = await engine.connect();
        return port.postMessage({ id, outcome: { opened, error: error && packError(error) } });
      }
      if (command === 'start') engine.start(() => port.postMessage({ id: 0, idle: true }));
      if (command === 'sample') return port.postMessage({ id, sample: pack(await engine.sample()) });
      if (command === 'stop') return port.postMessage({ id, sample: pack(await engine.stop()) });
      port.postMessage({ id });
    } catch (err) {
      port.postMessage({ id, error: packError(err) });
    }
  });
}

if (!isMainThread && (workerData as { sockkitBench?: LoadPlan } | undefined)?.sockkitBench) {
  serveCommands((workerData as { sockkitBench: LoadPlan }).sockkitBench);
}
