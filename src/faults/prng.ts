/**
 * Prng is the seeded random number generator behind every fault decision: xoshiro128** (Blackman
 * and Vigna, 2018), its state filled from the seed by splitmix64, as its authors recommend. It is
 * small, pure and fast, and the same seed always gives the same sequence, so a failing test run
 * with faults can be repeated exactly (`--seed`).
 */

/** MAX_SEED is the largest seed: seeds are whole numbers a JSON number or a flag holds exactly. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/**
 * splitmix64 returns the next state and output of splitmix64 (Steele, Lea and Flood, 2014) from
 * `state`. Used only to seed, so BigInt's cost does not matter.
 */
export function splitmix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + GOLDEN) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state: next, value: z ^ (z >> 31n) };
}

/** Prng is a xoshiro128** generator. Its methods never throw. */
export class Prng {
  readonly #s = new Uint32Array(4);

  /**
   * The constructor seeds the generator from `seed` (a whole number from 0 to MAX_SEED) and
   * `stream`: generators with the same seed and different streams are independent, so each
   * connection of a server can have its own, repeatable, sequence. Throws RangeError otherwise.
   */
  constructor(seed: number, stream = 0) {
    for (const [name, value] of [
      ['seed', seed],
      ['stream', stream],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`${name} ${value}: expected a whole number from 0 to ${MAX_SEED}`);
      }
    }
    // The stream is mixed in through splitmix64 itself, so streams 0, 1, 2 are far apart.
    let state = BigInt(seed);
    if (stream !== 0) state ^= splitmix64(BigInt(stream) * GOLDEN).value;
    const a = splitmix64(state);
    const b = splitmix64(a.state);
    this.#s[0] = Number(a.value & 0xffffffffn);
    this.#s[1] = Number(a.value >> 32n);
    this.#s[2] = Number(b.value & 0xffffffffn);
    this.#s[3] = Number(b.value >> 32n);
    // xoshiro's one bad state, all zeros, cannot follow from splitmix64 (it is a bijection whose
    // two consecutive outputs are never both zero), but a state set by hand could be it.
    if (this.#s.every((word) => word === 0)) this.#s[0] = 1;
  }

  /** fromState makes a generator in exactly `state` (four 32-bit words, not all zero): for tests against the reference. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    const prng = new Prng(0);
    prng.#s.set(state);
    if (prng.#s.every((word) => word === 0)) throw new RangeError('state: must not be all zeros');
    return prng;
  }

  /** nextUint32 returns the next output, a whole number from 0 to 2^32 - 1. */
  nextUint32(): number {
    const s = this.#s;
    const [s0, s1, s2, s3] = s as unknown as [number, number, number, number];
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = rotl(n3, 11);
    return result;
  }

  /** nextFloat returns a number in [0, 1), with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** chance returns true with probability `p` (0 never, 1 always); it draws one number either way. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** between returns a number in [low, high), uniformly; it draws one number either way. */
  between(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** randomSeed returns a fresh seed, for a run that was not given one (it is reported, so the run can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
