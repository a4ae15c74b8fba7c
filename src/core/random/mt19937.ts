/**
 * The 32-bit Mersenne Twister, MT19937 (Matsumoto & Nishimura 1998), seeded the way PyTorch seeds its
 * CPU generator: `init_genrand` with the low 32 bits of the seed
 * (pytorch/pytorch `aten/src/ATen/core/MT19937RNGEngine.h`, `mt19937::init_with_uint32`).
 * Its output sequence equals C++ `std::mt19937(seed)`.
 */
export class MT19937 {
  private readonly state = new Uint32Array(624);
  private index = 624;

  /** @param seed any non-negative safe integer; like PyTorch, only `seed mod 2^32` is used. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    const s = this.state;
    s[0] = seed % 0x1_0000_0000;
    for (let i = 1; i < 624; i++) {
      const prev = s[i - 1]! ^ (s[i - 1]! >>> 30);
      // 1812433253 * prev + i, modulo 2^32, split to stay within double precision.
      s[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
  }

  /** Next uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < 624; i++) {
      const y = (s[i]! & 0x80000000) | (s[(i + 1) % 624]! & 0x7fffffff);
      let next = s[(i + 397) % 624]! ^ (y >>> 1);
      if (y & 1) next ^= 0x9908b0df;
      s[i] = next >>> 0;
    }
    this.index = 0;
  }
}
