/** The piscina task behind `ReferenceVerifier`: runs `verifyReferenceImage` in a worker thread. */
import { describeError, type ErrorInfo } from '../../../src/core/errors.ts';
import { verifyReferenceImage, type VerifiedImage } from './verifyReference.ts';

export type VerifyOutcome = { ok: true; image: VerifiedImage } | { ok: false; error: ErrorInfo };

/** @returns the verified image (the file is copied back, at most 10 MiB), or the error with its code. */
export default function verify(dataUrl: string): VerifyOutcome {
  try {
    return { ok: true, image: verifyReferenceImage(dataUrl) };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}
