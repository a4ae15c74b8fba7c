import { resolve } from 'node:path';
import { DEFAULT_STYLE_MODELS, STYLES, type Style } from '../../src/core/product/index.ts';
import { DEFAULT_VARIANT_ORDER } from './models/manifest.ts';
import { NODE_EXECUTION_PROVIDERS, type NodeExecutionProvider } from './executionProvider.ts';
import { accessConfigFromEnv, type AccessConfig } from './access/accessConfig.ts';

/** Server settings, from the environment (see README "Server settings"); API keys, quotas, rate limits and CORS in `AccessConfig`. */
export interface ServerConfig extends AccessConfig {
  host: string;
  port: number;
  /** Folder of model packages, one sub-folder per model id. */
  modelsDir: string;
  /**
   * Folder under `modelsDir` of the optional Korean -> English translation model (a Marian package such as
   * opus-mt-ko-en exported by optimum); used when it is there, else the glossary translates. Empty: never.
   */
  translationModel: string;
  defaultModel: string;
  /** Generated images (content-addressed, `images/`) and the job database (`jobs.sqlite`, SQLite). */
  dataDir: string;
  /** Built app (vite build output); not served when absent. */
  staticDir: string;
  /** onnxruntime-node's execution provider: `cpu`, `webgpu` (a Vulkan adapter) or `cuda`; never replaced by another. */
  executionProvider: NodeExecutionProvider;
  maxQueuedJobs: number;
  /** A preview every this many denoising steps (0: none); absent: about six per job. */
  previewEvery?: number;
  /** Model weights a render engine keeps loaded, bytes: idle sessions of other checkpoints are released past it. */
  modelMemoryBudgetBytes: number;
  /** Which installed package renders each product style when a request names no `model`. */
  styleModels: Record<Style, string>;
  /** The queue runs jobs for the loaded checkpoint first, unless an older job has waited this long, ms. */
  queueMaxWaitMs: number;
  /** Redis for scale-out (BullMQ): jobs are rendered by `npm run worker` processes; absent: in this process. */
  redisUrl?: string;
  /** Milliseconds between heartbeat comments on an idle progress stream. */
  sseHeartbeatMs: number;
  /** On SIGTERM, how long the running job may take to finish before it is put back in the queue, ms. */
  shutdownGraceMs: number;
  /** Starts a job gets before a crash mid-run fails it as `interrupted`. */
  maxJobAttempts: number;
  /** Chunk size of the manifests' per-chunk hashes (the unit a device verifies and re-fetches), bytes. */
  modelChunkBytes: number;
  /** Variant names in order of preference, for the manifests. */
  variantOrder: string[];
  /** Model ids to mark full-size whatever their size. */
  realSizeModels: string[];
}

/** @throws RangeError naming the variable for an invalid value. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): ServerConfig {
  const port = Number(env.PORT ?? 5178);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be an integer in [0, 65535], got "${env.PORT}"`);
  const chunk = Number(env.MODEL_CHUNK_BYTES ?? 16 * 1024 * 1024);
  if (!Number.isInteger(chunk) || chunk < 1024) throw new RangeError(`MODEL_CHUNK_BYTES must be an integer of at least 1024, got "${env.MODEL_CHUNK_BYTES}"`);
  const attempts = Number(env.JOB_MAX_ATTEMPTS ?? 2);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new RangeError(`JOB_MAX_ATTEMPTS must be an integer in [1, 100], got "${env.JOB_MAX_ATTEMPTS}"`);
  const previewEvery = env.PREVIEW_EVERY === undefined ? undefined : Number(env.PREVIEW_EVERY);
  if (previewEvery !== undefined && (!Number.isInteger(previewEvery) || previewEvery < 0 || previewEvery > 1000)) throw new RangeError(`PREVIEW_EVERY must be an integer in [0, 1000], got "${env.PREVIEW_EVERY}"`);
  const budgetMb = Number(env.MODEL_MEMORY_BUDGET_MB ?? 16_384);
  if (!Number.isFinite(budgetMb) || budgetMb <= 0) throw new RangeError(`MODEL_MEMORY_BUDGET_MB must be a positive number, got "${env.MODEL_MEMORY_BUDGET_MB}"`);
  const maxWait = Number(env.QUEUE_MAX_WAIT_MS ?? 120_000);
  if (!Number.isInteger(maxWait) || maxWait < 0) throw new RangeError(`QUEUE_MAX_WAIT_MS must be a non-negative integer, got "${env.QUEUE_MAX_WAIT_MS}"`);
  const heartbeat = Number(env.SSE_HEARTBEAT_MS ?? 15_000);
  if (!Number.isInteger(heartbeat) || heartbeat < 100) throw new RangeError(`SSE_HEARTBEAT_MS must be an integer of at least 100, got "${env.SSE_HEARTBEAT_MS}"`);
  const grace = Number(env.SHUTDOWN_GRACE_MS ?? 30_000);
  if (!Number.isInteger(grace) || grace < 0) throw new RangeError(`SHUTDOWN_GRACE_MS must be a non-negative integer, got "${env.SHUTDOWN_GRACE_MS}"`);
  const list = (value: string | undefined, fallback: readonly string[]) => (value === undefined ? [...fallback] : value.split(',').map((s) => s.trim()).filter(Boolean));
  const provider = (env.ORT_EXECUTION_PROVIDER ?? 'cpu') as NodeExecutionProvider;
  if (!NODE_EXECUTION_PROVIDERS.includes(provider)) throw new RangeError(`ORT_EXECUTION_PROVIDER must be ${NODE_EXECUTION_PROVIDERS.join(', ')}, got "${provider}"`);
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    modelsDir: resolve(root, env.MODELS_DIR ?? 'public/models'),
    translationModel: env.TRANSLATION_MODEL ?? 'opus-mt-ko-en',
    defaultModel: env.DEFAULT_MODEL ?? 'tiny-sdxl',
    dataDir: resolve(root, env.DATA_DIR ?? 'data'),
    staticDir: resolve(root, env.STATIC_DIR ?? 'dist'),
    executionProvider: provider,
    maxQueuedJobs: 100,
    maxJobAttempts: attempts,
    sseHeartbeatMs: heartbeat,
    shutdownGraceMs: grace,
    modelMemoryBudgetBytes: Math.round(budgetMb * 1024 * 1024),
    styleModels: styleModels(env.STYLE_MODELS),
    queueMaxWaitMs: maxWait,
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    ...(previewEvery !== undefined ? { previewEvery } : {}),
    modelChunkBytes: chunk,
    variantOrder: list(env.MODEL_VARIANT_ORDER, DEFAULT_VARIANT_ORDER),
    realSizeModels: list(env.REAL_SIZE_MODELS, []),
    ...accessConfigFromEnv(env),
  };
}


/**
 * `STYLE_MODELS`, e.g. `ultra_realistic=realvisxl-v4,anime=animagine-xl-3.1`: styles not named keep the default.
 * @throws RangeError naming the variable for an unknown style or a malformed entry.
 */
function styleModels(value: string | undefined): Record<Style, string> {
  const map = { ...DEFAULT_STYLE_MODELS };
  for (const entry of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [style, model] = entry.split('=').map((s) => s.trim());
    if (!STYLES.includes(style as Style) || !model) throw new RangeError(`STYLE_MODELS entries must be <style>=<model id> with style one of ${STYLES.join(', ')}, got "${entry}"`);
    map[style as Style] = model;
  }
  return map;
}
