import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { EngineError } from '../../../src/core/errors.ts';
import type { VerifiedImage } from './verifyReference.ts';
import type { VerifyOutcome } from './verifyTask.ts';

/**
 * Checks reference images (`verifyReferenceImage`: CRCs, inflate caps, the full decode of up to 24 million
 * pixels) on a piscina pool of worker threads, so a large upload never stalls the HTTP event loop.
 */
export class ReferenceVerifier {
  private readonly pool = new Piscina({
    filename: new URL('./verifyWorker.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(2, availableParallelism() - 1)),
    idleTimeout: 30_000,
    execArgv: [], // verifyWorker.mjs registers tsx itself
  });

  /**
   * @param dataUrl the request's `image` field.
   * @throws EngineError `invalid_request` naming `image`, as `verifyReferenceImage` would.
   */
  async verify(dataUrl: string): Promise<VerifiedImage> {
    const outcome = (await this.pool.run(dataUrl)) as VerifyOutcome;
    if (!outcome.ok) throw EngineError.from(outcome.error);
    return outcome.image;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
