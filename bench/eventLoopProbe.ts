/**
 * Preloaded into the benchmarked server (`node --import tsx --import ./bench/eventLoopProbe.ts`): samples the
 * main thread's event-loop delay with `perf_hooks.monitorEventLoopDelay`, sampled every 2 ms. The histogram
 * records the time between samples (an idle loop reads 2.0x ms), so the sampling interval is subtracted: what is
 * printed is how late the loop was. SIGUSR1 starts a measuring window; SIGUSR2 prints its percentiles as one JSON
 * line (`{"event_loop_delay_ms": ...}`).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

// worker threads inherit the preload; only the HTTP thread is measured (and only it may take signals)
if (isMainThread) {
  const resolutionMs = 2;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  process.on('SIGUSR1', () => histogram.reset());
  process.on('SIGUSR2', () => {
    const ms = (ns: number) => Math.round(Math.max(0, ns / 1e6 - resolutionMs) * 100) / 100;
    const report = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count };
    process.stdout.write(`${JSON.stringify({ event_loop_delay_ms: report })}\n`);
  });
}
