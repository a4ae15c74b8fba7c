import type { OnnxRuntime, OnnxSession, SessionSource } from '../../../src/core/runtime.ts';

/** What the main thread knows of a package file from its manifest. */
export interface FileInfo {
  sha256: string;
  /** Bytes on disk. */
  bytes: number;
}

interface Entry {
  key: string;
  component: string;
  /** Weight bytes on disk (model.onnx plus external data): the estimate of what the session holds. */
  bytes: number;
  refs: number;
  lastUsed: number;
  session: Promise<OnnxSession>;
}

/** One session of the cache, for the stats `/readyz` and the tests read. */
export interface CachedSession {
  component: string;
  key: string;
  bytes: number;
  /** Pipelines using it now; 0 means kept idle for a later model that has the same component. */
  refs: number;
}

/**
 * Sessions shared by content: two packages whose component files have the same SHA-256 (the shared VAE,
 * identical text encoders) get one session. A session no pipeline uses stays cached while the cache is within
 * `budgetBytes`, and idle ones are released to make room (UNets first, least recently used first). A session in use is never
 * released; a pipeline larger than the budget still loads (the budget is then exceeded until it is released).
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  /** Sessions created per component since start (the tests count VAE loads). */
  readonly created: Record<string, number> = {};

  constructor(private readonly runtime: OnnxRuntime, private readonly budgetBytes: number) {}

  /**
   * A runtime for one package whose sessions come from this cache.
   * @param files the package's files by package-relative path (`unet/model.onnx`): their hashes make the keys;
   *   a file missing from it gets a key of its own (`root` + path: never shared).
   */
  runtimeFor(root: string, files: Readonly<Record<string, FileInfo>>): OnnxRuntime {
    return {
      ...this.runtime,
      createSession: (source: SessionSource) => this.acquire(root, files, source),
    };
  }

  private async acquire(root: string, files: Readonly<Record<string, FileInfo>>, source: SessionSource): Promise<OnnxSession> {
    const paths = [source.modelPath, ...source.externalData];
    const key = `${source.component}:${paths.map((p) => files[p]?.sha256 ?? `${root}/${p}`).join('+')}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const bytes = paths.reduce((n, p) => n + (files[p]?.bytes ?? 0), 0);
      await this.makeRoom(bytes);
      const session = this.runtime.createSession(source);
      entry = { key, component: source.component, bytes, refs: 0, lastUsed: 0, session };
      this.entries.set(key, entry);
      this.created[source.component] = (this.created[source.component] ?? 0) + 1;
      session.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    }
    entry.refs++;
    entry.lastUsed = ++this.clock;
    const held = entry;
    const session = await held.session.catch((error: unknown) => {
      held.refs--;
      throw error;
    });
    let released = false;
    return {
      ...session,
      release: async () => {
        if (released) return;
        released = true;
        held.refs--;
        held.lastUsed = ++this.clock;
      },
    };
  }

  /**
   * Releases idle sessions until `bytes` more fit in the budget: idle UNets first (each checkpoint has its own,
   * and they are most of its weight), least recently used first; then the other components the same way.
   */
  private async makeRoom(bytes: number): Promise<void> {
    const rank = (e: Entry) => (e.component === 'unet' ? 0 : 1);
    const idle = [...this.entries.values()].filter((e) => e.refs === 0).sort((a, b) => rank(a) - rank(b) || a.lastUsed - b.lastUsed);
    let total = [...this.entries.values()].reduce((n, e) => n + e.bytes, 0);
    for (const entry of idle) {
      if (total + bytes <= this.budgetBytes) break;
      this.entries.delete(entry.key);
      total -= entry.bytes;
      await (await entry.session.catch(() => undefined))?.release();
    }
  }

  /** The cached sessions, most recently used first. */
  sessions(): CachedSession[] {
    return [...this.entries.values()].sort((a, b) => b.lastUsed - a.lastUsed).map(({ component, key, bytes, refs }) => ({ component, key, bytes, refs }));
  }

  /** Releases every session (shutdown). */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(async (e) => (await e.session.catch(() => undefined))?.release()));
  }
}
