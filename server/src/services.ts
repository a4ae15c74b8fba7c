import type { ImageStore } from './images/imageStore.ts';
import type { ReferenceVerifier } from './images/verifyPool.ts';
import type { JobQueue } from './jobs/jobQueue.ts';
import type { ModelRegistry } from './models/registry.ts';
import type { RenderEngine } from './render/renderEngine.ts';

/** What the routes work with; built once by `buildApp`. */
export interface Services {
  models: ModelRegistry;
  jobs: JobQueue;
  images: ImageStore;
  engine: RenderEngine;
  /** Checks reference images off the event loop. */
  verifier: ReferenceVerifier;
}
