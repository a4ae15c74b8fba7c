import type { EngineEvent } from '../../engine/engine.ts';
import { locale } from '../i18n/locale.svelte.ts';

/** What the progress area shows. */
export interface Progress {
  label: string;
  value: number;
  max: number;
}

/**
 * The progress bar for an engine event, worded in the page's language; undefined for events that are not a
 * stage of the work (a preview, the time left), which the page shows beside it.
 */
export function progressFor(event: EngineEvent): Progress | undefined {
  const p = locale.t.progress;
  switch (event.stage) {
    case 'download':
      return { label: p.download(event.variant, event.loaded, event.total), value: event.loaded, max: event.total };
    case 'load':
      return { label: p.load(event.component, event.index, event.total), value: event.index, max: event.total };
    case 'server_load':
      return { label: p.serverLoad, value: 0, max: 1 };
    case 'encode':
      return { label: p.encode, value: 0, max: 1 };
    case 'denoise':
      return { label: p.denoise(event.step, event.totalSteps), value: event.step, max: event.totalSteps };
    case 'decode':
      return { label: p.decode, value: 1, max: 1 };
    case 'queued':
      return { label: p.queued(event.position), value: 0, max: 1 };
    case 'fetch':
      return { label: p.fetch, value: 1, max: 1 };
    case 'layout':
      return { label: p.layout, value: 1, max: 1 };
    case 'preview':
    case 'eta':
      return undefined;
  }
}

/** `about 40 s left`, `약 3분 남음` for a time left in milliseconds. */
export function etaText(ms: number): string {
  return locale.t.progress.eta(Math.max(1, Math.round(ms / 1000)));
}

/**
 * The time left of a generation on this device, from its denoising steps so far: the mean time per step (from
 * the first step event on, so loading and text encoding are not counted) times the steps left, plus one step
 * for decoding (the VAE takes about one UNet step at SDXL sizes). Undefined until two steps were seen.
 */
export class StepClock {
  private first: { step: number; at: number } | undefined;

  reset(): void {
    this.first = undefined;
  }

  /** @returns milliseconds left after `event` (at `now`, milliseconds), or undefined when it cannot tell yet. */
  observe(event: EngineEvent, now: number): number | undefined {
    if (event.stage !== 'denoise') return undefined;
    if (!this.first || event.step <= this.first.step) {
      this.first = { step: event.step, at: now };
      return undefined;
    }
    const perStep = (now - this.first.at) / (event.step - this.first.step);
    return perStep * (event.totalSteps - event.step + 1);
  }
}
