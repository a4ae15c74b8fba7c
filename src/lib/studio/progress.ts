import type { EngineEvent } from '../../engine/engine.ts';

/** What the progress area shows. */
export interface Progress {
  label: string;
  value: number;
  max: number;
}

const MB = 1e6;

/**
 * The progress bar for an engine event; undefined for events that are not a stage of the work (a preview, the
 * time left), which the page shows beside it.
 */
export function progressFor(event: EngineEvent): Progress | undefined {
  switch (event.stage) {
    case 'download':
      return {
        label: `Downloading the ${event.variant} model: ${(event.loaded / MB).toFixed(1)} of ${(event.total / MB).toFixed(1)} MB (${Math.floor((100 * event.loaded) / Math.max(event.total, 1))}%)`,
        value: event.loaded,
        max: event.total,
      };
    case 'load':
      return { label: `Loading ${event.component} (${event.index + 1}/${event.total})`, value: event.index, max: event.total };
    case 'server_load':
      return { label: 'The server is loading the model', value: 0, max: 1 };
    case 'encode':
      return { label: 'Reading the prompt', value: 0, max: 1 };
    case 'denoise':
      return { label: `Step ${event.step} of ${event.totalSteps}`, value: event.step, max: event.totalSteps };
    case 'decode':
      return { label: 'Decoding the image', value: 1, max: 1 };
    case 'queued':
      return { label: `Waiting on the server (${event.position} ahead)`, value: 0, max: 1 };
    case 'fetch':
      return { label: 'Downloading the image', value: 1, max: 1 };
    case 'preview':
    case 'eta':
      return undefined;
  }
}

/** `about 40 s left`, `about 3 min left` for a time left in milliseconds. */
export function etaText(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`;
}
