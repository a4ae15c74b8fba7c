import { describe, expect, it } from 'vitest';
import { throttled } from '../../src/engine/storage/modelFiles.ts';

describe('download progress reaches the page at most about ten times a second', () => {
  it('passes the first update, then one per 100 ms, and the last one on flush', async () => {
    const seen: number[] = [];
    const progress = throttled((loaded) => seen.push(loaded));
    for (let i = 1; i <= 1000; i++) progress.update(i, 1000);
    expect(seen).toEqual([1]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    progress.update(1001, 2000);
    progress.update(1002, 2000);
    progress.flush();
    expect(seen).toEqual([1, 1001, 1002]);
  });
});
