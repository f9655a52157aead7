/**
 * Worker threads for `--threads N`: each thread runs its own load loop on its own event loop, and
 * the main thread drives it through the LoadEngine interface with a few messages a second
 * (counters, and the interval's histogram compressed), never per message.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type ErrorCode, SockkitError } from '../errors.js';
import { DatagramLoad } from './datagram-load.js';
import { decodeHistogram, encodeHistogram } from './latency.js';
import type { Counters, LoadEngine, LoadPlan, LoadSample } from './load.js';
import { StreamLoad } from './stream-load.js';

/** createEngine makes the load loop for the plan's transport, in this thread. */
export function createEngine(plan: LoadPlan): LoadEngine {
  return plan.address.scheme === 'udp' ? new DatagramLoad(plan) : new StreamLoad(plan);
}

type Command = 'connect' | 'start' | 'sample' | 'stop';
interface Reply {
  readonly id: number;
  readonly sample?: { counters: Counters; histogram: string; open: number };
  readonly error?: { code: ErrorCode; op: string; url: string; reason: string } | { message: string };
}

/** WorkerEngine runs a load loop in a worker thread and drives it from this one. */
export class WorkerEngine implements LoadEngine {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #lastId = 0;
  #exited: Error | undefined;

  constructor(plan: LoadPlan) {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { sockkitBench: plan } });
    this.#worker.on('message', (reply: Reply) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
    const fail = (err: Error): void => {
      this.#exited = err;
      for (const resolve of this.#pending.values()) resolve({ id: 0, error: { message: err.message } });
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(new Error('bench worker exited')));
  }

  async connect(): Promise<void> {
    await this.#ask('connect');
  }

  start(): void {
    void this.#ask('start').catch(() => {});
  }

  async sample(): Promise<LoadSample> {
    return toSample(await this.#ask('sample'));
  }

  async stop(): Promise<LoadSample> {
    const reply = await this.#ask('stop');
    await this.#worker.terminate();
    return toSample(reply);
  }

  #ask(command: Command): Promise<Reply> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = ++this.#lastId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        if (!reply.error) return resolve(reply);
        const e = reply.error;
        reject('code' in e ? new SockkitError(e.code, e.op, e.url, e.reason) : new Error(e.message));
      });
      this.#worker.postMessage({ id, command });
    });
  }
}

function toSample(reply: Reply): LoadSample {
  const sample = reply.sample;
  if (!sample) throw new Error('bench worker sent no sample');
  return { counters: sample.counters, open: sample.open, histogram: decodeHistogram(sample.histogram) };
}

/** serve is the worker side: run the engine, answer each command. */
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
      if (command === 'connect') await engine.connect();
      if (command === 'start') engine.start();
      if (command === 'sample') return port.postMessage({ id, sample: pack(await engine.sample()) });
      if (command === 'stop') return port.postMessage({ id, sample: pack(await engine.stop()) });
      port.postMessage({ id });
    } catch (err) {
      const error =
        err instanceof SockkitError
          ? { code: err.code, op: err.op, url: err.url, reason: err.reason }
          : { message: err instanceof Error ? err.message : String(err) };
      port.postMessage({ id, error });
    }
  });
}

if (!isMainThread && (workerData as { sockkitBench?: LoadPlan } | undefined)?.sockkitBench) {
  serveCommands((workerData as { sockkitBench: LoadPlan }).sockkitBench);
}
