import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SEED, Prng, splitmix64 } from '../../src/faults/prng.js';

test('splitmix64 from state 0 gives the reference outputs', () => {
  let state = 0n;
  const outputs: bigint[] = [];
  for (let i = 0; i < 3; i += 1) {
    const next = splitmix64(state);
    state = next.state;
    outputs.push(next.value);
  }
  assert.deepEqual(outputs, [0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
});

test('xoshiro128** from state [1, 2, 3, 4] gives the reference outputs', () => {
  const prng = Prng.fromState([1, 2, 3, 4]);
  assert.deepEqual([prng.nextUint32(), prng.nextUint32(), prng.nextUint32()], [11520, 0, 5927040]);
});

test('a seed is expanded by splitmix64, as the reference C code does: seed 42', () => {
  // Outputs of the reference C (splitmix64 seeding the four words, low half first).
  const prng = new Prng(42);
  const outputs = Array.from({ length: 5 }, () => prng.nextUint32());
  assert.deepEqual(outputs, [1776835114, 4165204688, 17111135, 2317295270, 2792088233]);
});

test('the same seed and stream give the same sequence; another stream or seed another one', () => {
  const draw = (seed: number, stream = 0) => {
    const prng = new Prng(seed, stream);
    return Array.from({ length: 100 }, () => prng.nextUint32());
  };
  assert.deepEqual(draw(7), draw(7));
  assert.deepEqual(draw(7, 3), draw(7, 3));
  assert.notDeepEqual(draw(7), draw(8));
  assert.notDeepEqual(draw(7, 0), draw(7, 1));
  assert.notDeepEqual(draw(7, 1), draw(7, 2));
});

test('nextFloat lies in [0, 1) and is spread evenly (chi-square over 10 bins, 10000 draws)', () => {
  const prng = new Prng(1);
  const bins = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i += 1) {
    const x = prng.nextFloat();
    assert.ok(x >= 0 && x < 1);
    bins[Math.floor(x * 10)] = (bins[Math.floor(x * 10)] as number) + 1;
  }
  const chi = bins.reduce((sum, n) => sum + (n - 1000) ** 2 / 1000, 0);
  // 9 degrees of freedom: 27.9 is the 0.1% critical value; a fixed seed makes this exact anyway.
  assert.ok(chi < 27.9, `chi-square ${chi}`);
});

test('chance(0) is never and chance(1) always; between stays in its range', () => {
  const prng = new Prng(3);
  for (let i = 0; i < 1000; i += 1) {
    assert.equal(prng.chance(0), false);
    assert.equal(prng.chance(1), true);
    const x = prng.between(-5, 5);
    assert.ok(x >= -5 && x < 5);
  }
});

test('a seed that is not a whole number from 0 to MAX_SEED is a RangeError', () => {
  for (const seed of [-1, 1.5, Number.NaN, MAX_SEED + 1]) {
    assert.throws(() => new Prng(seed), { name: 'RangeError', message: /^seed .*: expected a whole number/ });
  }
  assert.throws(() => new Prng(1, -2), { name: 'RangeError', message: /^stream -2/ });
  assert.throws(() => Prng.fromState([0, 0, 0, 0]), RangeError);
});
