/**
 * A small node runner: runs named steps one after another and records, for each, its status, start time,
 * duration, error code and a few facts, as the original product's node pipeline did. Platform-free.
 */
import { describeError, type ErrorCode, type ErrorInfo } from '../errors.ts';
import { GenerationCancelledError, type CancelSignal } from '../types.ts';

/** How a node ended. `skipped`: it had nothing to do (no copy to lay out); `cancelled`: the caller stopped the run. */
export type NodeStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** Small JSON-safe facts about a node's work (the built prompt's `untranslated`, the steps, the PNG's bytes). */
export type NodeDetail = Record<string, string | number | boolean | null | readonly string[] | readonly number[]>;

/** What the runner records of one node (snake_case: it is stored and served as JSON as is). */
export interface NodeRecord {
  /** The node's name (`prompt`, `txt2img`, `img2img`, `layout`, `export`). */
  node: string;
  status: NodeStatus;
  /** When the node started, ISO 8601 (UTC). */
  started_at: string;
  /** Wall time, milliseconds (0.1 ms resolution; 0 for a skipped node). */
  duration_ms: number;
  /** The error's code (`describeError`) of a failed or cancelled node. */
  error_code?: ErrorCode;
  detail?: NodeDetail;
}

/** What a node's work returns: its output and the facts to record. */
export interface NodeResult<O> {
  output: O;
  detail?: NodeDetail;
}

/**
 * A node failed or was cancelled: carries the failed node's error code (and issues) and every record so far.
 * `cause` is the error the node threw.
 */
export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  readonly code: ErrorCode;
  readonly issues?: ErrorInfo['issues'];
  constructor(cause: unknown, readonly node: string, readonly nodes: readonly NodeRecord[]) {
    const info = describeError(cause);
    super(info.message, { cause });
    this.code = info.code;
    if (info.issues) this.issues = info.issues;
  }
}

/** The node records an error carries (a WorkflowError, or an error a host rebuilt with `nodes`), else undefined. */
export function nodesOf(error: unknown): NodeRecord[] | undefined {
  const nodes = error && typeof error === 'object' ? (error as { nodes?: unknown }).nodes : undefined;
  return Array.isArray(nodes) ? (nodes as NodeRecord[]) : undefined;
}

export interface RunnerOptions {
  /** Checked before each node; a node that throws `cancelled` is recorded `cancelled`. */
  signal?: CancelSignal;
  /** Monotonic clock, milliseconds, for durations (default `Date.now`; hosts pass `performance.now`). */
  now?: () => number;
  /** Wall clock for `started_at` (default `new Date()`). */
  date?: () => Date;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Runs nodes in order and records each. A node that throws is recorded `failed` (or `cancelled` for the code
 * `cancelled`) with its code, and a WorkflowError with that code and the records is thrown: the caller runs no
 * later node. A run whose signal was aborted before a node records that node `cancelled` without starting it.
 */
export class WorkflowRunner {
  private readonly records: NodeRecord[] = [];
  private readonly now: () => number;
  private readonly date: () => Date;

  constructor(private readonly options: RunnerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.date = options.date ?? (() => new Date());
  }

  /** The records so far (a copy). */
  get nodes(): NodeRecord[] {
    return this.records.map((r) => ({ ...r, ...(r.detail ? { detail: { ...r.detail } } : {}) }));
  }

  /**
   * Runs one node.
   * @returns the node's output.
   * @throws WorkflowError with the node's error code (`cancelled` when the signal was aborted before it started).
   */
  async run<O>(node: string, work: () => Promise<NodeResult<O>> | NodeResult<O>): Promise<O> {
    const startedAt = this.date().toISOString();
    if (this.options.signal?.aborted) {
      const error = new GenerationCancelledError();
      this.records.push({ node, status: 'cancelled', started_at: startedAt, duration_ms: 0, error_code: 'cancelled' });
      throw new WorkflowError(error, node, this.nodes);
    }
    const started = this.now();
    try {
      const { output, detail } = await work();
      this.records.push({ node, status: 'succeeded', started_at: startedAt, duration_ms: round(this.now() - started), ...(detail ? { detail } : {}) });
      return output;
    } catch (error) {
      const code = describeError(error).code;
      this.records.push({ node, status: code === 'cancelled' ? 'cancelled' : 'failed', started_at: startedAt, duration_ms: round(this.now() - started), error_code: code });
      throw new WorkflowError(error, node, this.nodes);
    }
  }

  /** Records a node that had nothing to do. */
  skip(node: string, detail?: NodeDetail): void {
    this.records.push({ node, status: 'skipped', started_at: this.date().toISOString(), duration_ms: 0, ...(detail ? { detail } : {}) });
  }
}
