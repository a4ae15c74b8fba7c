/** numpy's `round` / `np.around`: halves go to the even neighbour (1.5 -> 2, 2.5 -> 2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
