import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { NodeRecord } from '../../../src/core/workflow/index.ts';
import type { JobResult, JobStatus, ReferenceImageInfo } from './jobTypes.ts';

/** A job row as stored. Times are ISO 8601 strings (UTC). */
export interface StoredJob {
  id: string;
  /** Insertion order; the list cursor. */
  seq: number;
  status: JobStatus;
  /** The request without its `image` data (that is in `reference_images`, by `reference_sha256`). */
  request: Omit<GenerateRequest, 'image'>;
  reference?: ReferenceImageInfo & { sha256: string };
  /** Times the job has been started (a crash mid-run leaves it started once more than finished). */
  attempts: number;
  result?: JobResult;
  error?: ErrorInfo;
  /** The ad workflow's node records of the run that ended the job. */
  nodes?: NodeRecord[];
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

interface Row {
  id: string;
  seq: number;
  status: JobStatus;
  request: string;
  reference: string | null;
  attempts: number;
  result: string | null;
  error: string | null;
  nodes: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  request TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  reference TEXT,
  reference_sha256 TEXT REFERENCES reference_images (sha256),
  idempotency_key TEXT UNIQUE,
  attempts INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  error TEXT,
  nodes TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS reference_images (
  sha256 TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  file BLOB NOT NULL
);
`;

const now = () => new Date().toISOString();

/**
 * Brings a database made by an older release up to SCHEMA (`CREATE TABLE IF NOT EXISTS` leaves an existing
 * table as it was): columns added since are added, empty, so old jobs read as before.
 */
function migrate(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name));
  // the ad workflow's node records (JSON array), since the workflow
  if (!columns.has('nodes')) db.exec('ALTER TABLE jobs ADD COLUMN nodes TEXT');
}

function fromRow(row: Row): StoredJob {
  return {
    id: row.id,
    seq: row.seq,
    status: row.status,
    request: JSON.parse(row.request) as StoredJob['request'],
    ...(row.reference ? { reference: JSON.parse(row.reference) as StoredJob['reference'] } : {}),
    attempts: row.attempts,
    ...(row.result ? { result: JSON.parse(row.result) as JobResult } : {}),
    ...(row.error ? { error: JSON.parse(row.error) as ErrorInfo } : {}),
    ...(row.nodes ? { nodes: JSON.parse(row.nodes) as NodeRecord[] } : {}),
    created_at: row.created_at,
    ...(row.started_at ? { started_at: row.started_at } : {}),
    ...(row.finished_at ? { finished_at: row.finished_at } : {}),
  };
}

/** An `Idempotency-Key` reused with a different request body. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  readonly code = 'idempotency_conflict';
}

/**
 * Generation jobs in SQLite (better-sqlite3): WAL with `synchronous=FULL`, so a job whose insert returned
 * is on disk before the API answers 202, and survives `kill -9` and power loss. Reference images are stored
 * once by SHA-256. Every method is one synchronous statement or transaction.
 */
export class JobStore {
  private readonly db: Database.Database;

  /** Opens (creating) the database file at `path`; `:memory:` for a throwaway store. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    migrate(this.db);
  }

  /**
   * Inserts a queued job, or returns the job already stored under `idempotencyKey`.
   * @param requestHash SHA-256 of the canonical request (image included): a key reused with another body throws.
   * @throws IdempotencyConflictError when `idempotencyKey` names a job made from another request.
   */
  insert(job: { id: string; request: StoredJob['request']; requestHash: string; reference?: StoredJob['reference']; referenceFile?: Uint8Array; idempotencyKey?: string }): { job: StoredJob; created: boolean } {
    return this.db.transaction(() => {
      if (job.idempotencyKey !== undefined) {
        const existing = this.db.prepare('SELECT * FROM jobs WHERE idempotency_key = ?').get(job.idempotencyKey) as (Row & { request_hash: string }) | undefined;
        if (existing) {
          if (existing.request_hash !== job.requestHash) throw new IdempotencyConflictError(`Idempotency-Key ${job.idempotencyKey} was used for job ${existing.id} with a different request`);
          return { job: fromRow(existing), created: false };
        }
      }
      if (job.reference && job.referenceFile) {
        this.db.prepare('INSERT OR IGNORE INTO reference_images (sha256, type, file) VALUES (?, ?, ?)').run(job.reference.sha256, job.reference.type, job.referenceFile);
      }
      this.db
        .prepare('INSERT INTO jobs (id, status, request, request_hash, reference, reference_sha256, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(job.id, 'queued', JSON.stringify(job.request), job.requestHash, job.reference ? JSON.stringify(job.reference) : null, job.reference?.sha256 ?? null, job.idempotencyKey ?? null, now());
      return { job: this.get(job.id)!, created: true };
    })();
  }

  /** Whether a job was made under `idempotencyKey`. */
  hasIdempotencyKey(idempotencyKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM jobs WHERE idempotency_key = ?').get(idempotencyKey) !== undefined;
  }

  get(id: string): StoredJob | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** The stored reference file (PNG or JPEG bytes) with that SHA-256. */
  referenceFile(sha256: string): { type: string; file: Uint8Array } | undefined {
    const row = this.db.prepare('SELECT type, file FROM reference_images WHERE sha256 = ?').get(sha256) as { type: string; file: Buffer } | undefined;
    return row && { type: row.type, file: new Uint8Array(row.file) };
  }

  /** Queued jobs ahead of the queued job `seq`. */
  queuedBefore(seq: number): number {
    return (this.db.prepare("SELECT count(*) AS n FROM jobs WHERE status = 'queued' AND seq < ?").get(seq) as { n: number }).n;
  }

  countByStatus(status: JobStatus): number {
    return (this.db.prepare('SELECT count(*) AS n FROM jobs WHERE status = ?').get(status) as { n: number }).n;
  }

  /** Jobs in each state (every state present, 0 when none), in one statement. */
  countsByStatus(): Record<JobStatus, number> {
    const counts: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    for (const row of this.db.prepare('SELECT status, count(*) AS n FROM jobs GROUP BY status').all() as { status: JobStatus; n: number }[]) counts[row.status] = row.n;
    return counts;
  }

  /**
   * For a graceful stop: puts a running job back in the queue without counting the start it is giving up
   * (attempts - 1), so it runs again at the next start as if it had not begun. A job that has ended meanwhile
   * is left alone.
   * @returns whether the job was re-queued.
   */
  requeueUnstarted(id: string): boolean {
    return this.db.prepare("UPDATE jobs SET status = 'queued', attempts = MAX(attempts - 1, 0), started_at = NULL WHERE id = ? AND status = 'running'").run(id).changes === 1;
  }

  /**
   * Marks the next job running (attempts + 1) and returns it; undefined when none waits. The next job is the
   * oldest queued one, except that with `prefer` the oldest job for `prefer.model` (the loaded checkpoint) goes
   * first while the oldest job overall has waited less than `prefer.maxWaitMs` (so a switch of checkpoints is
   * saved, and no job waits past the bound for it).
   */
  claimNext(prefer?: { model: string | undefined; maxWaitMs: number }): StoredJob | undefined {
    return this.db.transaction(() => {
      const oldest = this.db.prepare("SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1").get() as Row | undefined;
      if (!oldest) return undefined;
      let row = oldest;
      const cutoff = prefer && new Date(Date.now() - prefer.maxWaitMs).toISOString();
      if (prefer?.model !== undefined && cutoff && oldest.created_at > cutoff) {
        const preferred = this.db.prepare("SELECT * FROM jobs WHERE status = 'queued' AND json_extract(request, '$.model') = ? ORDER BY seq LIMIT 1").get(prefer.model) as Row | undefined;
        if (preferred) row = preferred;
      }
      this.db.prepare("UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? WHERE id = ?").run(now(), row.id);
      return this.get(row.id);
    })();
  }

  /**
   * Marks a queued (or already running) job running after its `attempts`-th start on a remote worker.
   * @returns the job, or undefined when it is unknown or already ended (cancelled meanwhile).
   */
  markRunning(id: string, attempts: number): StoredJob | undefined {
    const info = this.db
      .prepare("UPDATE jobs SET status = 'running', attempts = MAX(attempts, ?), started_at = ? WHERE id = ? AND status IN ('queued', 'running')")
      .run(attempts, now(), id);
    return info.changes === 1 ? this.get(id) : undefined;
  }

  /**
   * Ends a queued or running job. A job already ended keeps its first ending.
   * @returns whether this call ended it.
   */
  finish(id: string, status: Exclude<JobStatus, 'queued' | 'running'>, outcome: { result?: JobResult; error?: ErrorInfo; nodes?: NodeRecord[] }): boolean {
    const info = this.db
      .prepare("UPDATE jobs SET status = ?, result = ?, error = ?, nodes = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running')")
      .run(status, outcome.result ? JSON.stringify(outcome.result) : null, outcome.error ? JSON.stringify(outcome.error) : null, outcome.nodes ? JSON.stringify(outcome.nodes) : null, now(), id);
    return info.changes === 1;
  }

  /**
   * After a crash: jobs left running go back to the queue while they have been started fewer than
   * `maxAttempts` times, else fail with code `interrupted`.
   * @returns how many were re-queued and how many failed.
   */
  recover(maxAttempts: number): { requeued: number; failed: number } {
    return this.db.transaction(() => {
      const error = JSON.stringify({ code: 'interrupted', message: `the server stopped while this job ran, ${maxAttempts} time(s); it is not retried again` });
      const failed = this.db.prepare("UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running' AND attempts >= ?").run(error, now(), maxAttempts).changes;
      const requeued = this.db.prepare("UPDATE jobs SET status = 'queued', started_at = NULL WHERE status = 'running'").run().changes;
      return { requeued, failed };
    })();
  }

  /**
   * Jobs, newest first.
   * @param cursor the `seq` of the last job of the previous page (exclusive).
   * @param limit 1 to 100.
   */
  list(options: { status?: JobStatus; limit: number; cursor?: number }): StoredJob[] {
    const rows = this.db
      .prepare(`SELECT * FROM jobs WHERE (? IS NULL OR status = ?) AND (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?`)
      .all(options.status ?? null, options.status ?? null, options.cursor ?? null, options.cursor ?? null, options.limit) as Row[];
    return rows.map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}
