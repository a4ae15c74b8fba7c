/**
 * The few numpy operations diffusers' schedulers build their timesteps with, reproduced with numpy's
 * float64 arithmetic so that the resulting float32 / int64 timesteps are identical.
 */
import { roundHalfEven } from '../numeric.ts';

export { roundHalfEven };

/** `np.linspace(start, stop, num, endpoint)`: `start + i * step` in float64, the endpoint set exactly. */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  if (num <= 0) return [];
  const div = endpoint ? num - 1 : num;
  if (div === 0) return [start];
  const step = (stop - start) / div;
  const out = Array.from({ length: num }, (_, i) => start + i * step);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** `np.arange(start, stop, step)` with a float step: `start + i * step` for `ceil((stop - start) / step)` values. */
export function arange(start: number, stop: number, step: number): number[] {
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** `np.interp(x, np.arange(len(fp)), fp)` in float64 (x within [0, len - 1]; exact at integer x). */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (x === j) return fp[j]!;
  return (fp[j + 1]! - fp[j]!) * (x - j) + fp[j]!;
}
