import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { newFaultCounts } from '../../src/faults/fault-counts.js';
import type { FaultPlan } from '../../src/faults/fault-plan.js';
import { ByteBudget, FaultStage } from '../../src/faults/fault-stage.js';
import { Prng } from '../../src/faults/prng.js';

const T = { timeout: 10_000 };

/** Collector is a plain Writable that keeps what it is given, and whether it was ended. */
class Collector extends Writable {
  readonly chunks: Buffer[] = [];
  ended = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  override _final(callback: () => void): void {
    this.ended = true;
    callback();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function stageFor(
  sink: Collector,
  plan: FaultPlan,
  extra: { budgets?: ByteBudget[]; queueLimit?: number } = {},
) {
  return new FaultStage(sink, { plan, prng: new Prng(plan.seed ?? 1), counts: newFaultCounts(), ...extra });
}

test('chunks come out in order however jitter varies their delays, then the sink is ended', T, async () => {
  const sink = new Collector();
  const stage = stageFor(sink, { delay: 20, jitter: 20, seed: 5 });
  const expected = Array.from({ length: 30 }, (_, i) => `chunk ${i};`).join('');
  for (let i = 0; i < 30; i += 1) stage.write(`chunk ${i};`);
  stage.end();
  await new Promise((resolve) => sink.once('finish', resolve));
  assert.equal(sink.bytes.toString(), expected);
  assert.equal(sink.ended, true);
});

test('slice writes pieces of at most the slice, each in its own write', T, async () => {
  const sink = new Collector();
  const stage = stageFor(sink, { slice: 7 });
  stage.end(Buffer.alloc(100, 1));
  await new Promise((resolve) => sink.once('finish', resolve));
  assert.deepEqual(
    sink.chunks.map((c) => c.length),
    [...new Array<number>(14).fill(7), 2],
  );
});

test('a budget passes exactly its bytes, across chunks, and calls back once after the last', T, async () => {
  const sink = new Collector();
  let spent = 0;
  const budget = new ByteBudget(25, () => (spent += 1));
  const stage = stageFor(sink, {}, { budgets: [budget] });
  await new Promise<void>((resolve) => {
    stage.write(Buffer.alloc(10, 1));
    stage.write(Buffer.alloc(10, 2));
    stage.write(Buffer.alloc(10, 3), () => resolve());
  });
  // The last byte's write callback runs after the stage's own callback: wait for it.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sink.bytes.length, 25);
  assert.equal(spent, 1);
  stage.cut();
});

test('a stage holds at most its queue limit, and write says so (backpressure)', T, () => {
  const sink = new Collector();
  // One byte a second: nothing leaves after the first burst, so everything written is held.
  const stage = stageFor(sink, { throttle: 1 }, { queueLimit: 4096 });
  let accepted = 0;
  for (let i = 0; i < 1000; i += 1) {
    accepted += 1024;
    if (!stage.write(Buffer.alloc(1024))) break;
  }
  // The queue, then the Writable's own 16 KiB buffer, then write returns false.
  assert.ok(accepted <= 4096 + 16 * 1024 + 1024, `${accepted} bytes accepted`);
  stage.destroy();
});

test('cut drops what is held, discards what follows, and leaves the sink open', T, async () => {
  const sink = new Collector();
  const stage = stageFor(sink, { delay: 60_000 });
  stage.write('held a minute');
  stage.cut();
  stage.write('after the cut');
  await new Promise<void>((resolve) => stage.end(resolve));
  assert.equal(sink.bytes.length, 0);
  assert.equal(sink.ended, false);
  assert.equal(stage.isCut, true);
});
