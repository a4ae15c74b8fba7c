/**
 * One variant of a model package as the pipeline reads it (paths relative to the variant's root, as in the
 * optimum layout), backed by the content-addressed IndexedDB store, or by memory when this browser cannot
 * keep the model (a private window). Weight files come out as Blobs assembled chunk by chunk, so onnxruntime-web
 * (its JSPI build) reads each initializer from the Blob and no whole file is ever held in JavaScript memory.
 */
import { ModelFileMissingError, type FileStore } from '../../core/loading/fileStore.ts';
import { manifestFile, type ManifestFile, type ManifestVariant, type ModelManifest } from '../../core/loading/manifest.ts';
import { readChunk, storedFile } from './blobStore.ts';

/** A FileStore whose weight files can also be read as Blobs (the browser's way to hand them to onnxruntime-web). */
export interface BlobFileStore extends FileStore {
  /** The file as a Blob, built chunk by chunk (one chunk in JavaScript memory at a time). */
  readBlob(path: string): Promise<Blob>;
}

/** Package path of `path` inside the variant. */
const inVariant = (variant: ManifestVariant, path: string) => (variant.root ? `${variant.root}/${path}` : path);

abstract class VariantFiles implements BlobFileStore {
  constructor(readonly manifest: ModelManifest, readonly variant: ManifestVariant) {}

  protected file(path: string): ManifestFile {
    const full = inVariant(this.variant, path);
    if (!this.variant.files.includes(full)) throw new ModelFileMissingError(path, `not in variant ${this.variant.name}`);
    return manifestFile(this.manifest, full);
  }

  async exists(path: string): Promise<boolean> {
    return this.variant.files.includes(inVariant(this.variant, path));
  }

  abstract readBlob(path: string): Promise<Blob>;

  async readBytes(path: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.readBlob(path)).arrayBuffer());
  }

  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path));
  }
}

/** A variant whose files are stored (and verified) in IndexedDB. */
export class StoredVariantFiles extends VariantFiles {
  async readBlob(path: string): Promise<Blob> {
    const file = this.file(path);
    const record = await storedFile(file.sha256);
    if (!record?.complete) throw new ModelFileMissingError(path, 'not downloaded');
    // each chunk is copied into blob storage as it is read, and its ArrayBuffer dropped
    const parts: Blob[] = [];
    for (let i = 0; i < record.chunks && file.size > 0; i++) parts.push(new Blob([await readChunk(file.sha256, i)]));
    return new Blob(parts);
  }

  override async readBytes(path: string): Promise<Uint8Array> {
    const file = this.file(path);
    const record = await storedFile(file.sha256);
    if (!record?.complete) throw new ModelFileMissingError(path, 'not downloaded');
    const out = new Uint8Array(file.size);
    for (let i = 0, offset = 0; offset < file.size; i++) {
      const part = new Uint8Array(await readChunk(file.sha256, i));
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** A variant downloaded into memory for this page only (nothing can be kept: a private window). */
export class MemoryVariantFiles extends VariantFiles {
  private readonly blobs = new Map<string, Blob>();

  /** Keeps a downloaded, verified file. */
  put(sha256: string, blob: Blob): void {
    this.blobs.set(sha256, blob);
  }

  has(sha256: string): boolean {
    return this.blobs.has(sha256);
  }

  async readBlob(path: string): Promise<Blob> {
    const blob = this.blobs.get(this.file(path).sha256);
    if (!blob) throw new ModelFileMissingError(path, 'not downloaded');
    return blob;
  }
}
