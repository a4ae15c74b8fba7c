import { describe, expect, it } from 'vitest';
import { LoadedSlot } from '../../src/core/pipelines/loadedSlot.ts';

/** A value that records its own release in `log`. */
function loader(log: string[], name: string, fail = false) {
  return async () => {
    log.push(`load ${name}`);
    if (fail) throw new Error(`${name} is broken`);
    return { name, release: async () => void log.push(`release ${name}`) };
  };
}

describe('LoadedSlot', () => {
  it('loads a key once, shares the load in flight, and releases the previous value before loading another', async () => {
    const log: string[] = [];
    const slot = new LoadedSlot<{ name: string; release(): Promise<void> }>();
    const [a1, a2] = await Promise.all([slot.get('a', loader(log, 'a')), slot.get('a', loader(log, 'a again'))]);
    expect(a1).toBe(a2);
    expect((await slot.get('b', loader(log, 'b'))).name).toBe('b');
    await slot.release();
    expect(log).toEqual(['load a', 'release a', 'load b', 'release b']);
  });

  it('forgets a failed load so the next call loads again, and forget() drops without releasing', async () => {
    const log: string[] = [];
    const slot = new LoadedSlot<{ name: string; release(): Promise<void> }>();
    await expect(slot.get('a', loader(log, 'a', true))).rejects.toThrow('a is broken');
    expect((await slot.get('a', loader(log, 'a'))).name).toBe('a');
    slot.forget();
    await slot.get('a', loader(log, 'a once more'));
    await slot.release();
    expect(log).toEqual(['load a', 'load a', 'load a once more', 'release a once more']);
  });
});
