import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Generated images stored by content: `<dir>/ab/ab3f....png`, the name being the SHA-256 of the PNG bytes.
 * Writing the same image twice is a no-op; writes go through a temporary file and a rename.
 */
export class ImageStore {
  constructor(readonly dir: string) {}

  /** @returns whether `sha256` is a well-formed lowercase hex digest. */
  static isDigest(sha256: string): boolean {
    return SHA256.test(sha256);
  }

  /** @throws RangeError for a malformed digest (never a path outside the store). */
  pathFor(sha256: string): string {
    if (!ImageStore.isDigest(sha256)) throw new RangeError(`not a sha256 digest: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), `${sha256}.png`);
  }

  async has(sha256: string): Promise<boolean> {
    return ImageStore.isDigest(sha256) && (await stat(this.pathFor(sha256)).then(() => true, () => false));
  }

  /** Stores a PNG; returns its SHA-256. */
  async put(png: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(png).digest('hex');
    const path = this.pathFor(sha256);
    if (await this.has(sha256)) return sha256;
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, png);
    await rename(temporary, path);
    return sha256;
  }
}
