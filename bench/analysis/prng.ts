/**
 * Seeded pseudo-random numbers for simulations: xoshiro128** (Blackman & Vigna) seeded through
 * splitmix32, so any 32-bit seed gives a well-mixed, reproducible stream. Doubles carry 53 bits.
 */

export interface Rng {
  /** Uniform on [0, 1). */
  next(): number;
}

function splitmix32(state: number): { value: number; state: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { value: (z ^ (z >>> 16)) >>> 0, state: next };
}

export class Xoshiro128 implements Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const out = splitmix32(s);
      s = out.state;
      words.push(out.value);
    }
    this.#a = words[0] ?? 1;
    this.#b = words[1] ?? 2;
    this.#c = words[2] ?? 3;
    this.#d = words[3] ?? 4;
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A generator for run `run` of stream `stream` (cells, scenarios) of a seeded experiment. */
export function rngFor(seed: number, stream: number, run: number): Xoshiro128 {
  // Mix the three integers into one 32-bit seed; splitmix32 in the constructor decorrelates them.
  let h = Math.imul(seed ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (stream + 0x632be5ab), 0x85ebca77);
  h = Math.imul(h ^ (run + 0x1b873593), 0xc2b2ae3d);
  return new Xoshiro128(h ^ (h >>> 15));
}
