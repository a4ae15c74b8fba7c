import { access, readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ModelFileMissingError, type FileStore } from '../../../src/core/loading/fileStore.ts';

/**
 * A model package on disk (the server's models directory). Paths are package-relative and may not
 * leave the package folder.
 */
export class DirectoryStore implements FileStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Absolute path of a package file. @throws ModelFileMissingError for a path outside the package. */
  localPath(path: string): string {
    const full = resolve(join(this.root, path));
    if (!full.startsWith(this.root + sep)) throw new ModelFileMissingError(path, 'outside the package');
    return full;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await access(this.localPath(path));
      return true;
    } catch {
      return false;
    }
  }

  async readBytes(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.localPath(path)));
    } catch (error) {
      throw new ModelFileMissingError(path, (error as NodeJS.ErrnoException).code ?? String(error));
    }
  }

  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path));
  }
}
