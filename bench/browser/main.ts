/** The bench page: exposes the bench worker (Comlink) as `window.bench` for `bench/scale.ts` to drive. */
import * as Comlink from 'comlink';
import type { BenchApi } from './bench.worker.ts';

const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module', name: 'ad-studio-bench' });
(window as unknown as { bench: Comlink.Remote<BenchApi> }).bench = Comlink.wrap<BenchApi>(worker);
