import { join } from 'node:path';
import cors from '@fastify/cors';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessConfig } from '../access/accessConfig.ts';
import { ACCESS_DB_FILE, openAccessDb } from '../access/accessDb.ts';
import { ApiKeyError, ApiKeyStore, keyIdOf } from '../access/apiKeys.ts';
import { QuotaStore, type QuotaView, type Reservation } from '../access/quotaStore.ts';

/** Routes under `/api/` that need no key, count for no rate limit (`/api/health`) or neither. */
const OPEN_API_ROUTES = new Set(['/api/health', '/api/models']);
const UNLIMITED_API_ROUTES = new Set(['/api/health']);
/** The route whose accepted jobs (202) count against the daily quota. */
const GENERATIONS_ROUTE = '/api/generations';

/** Who is calling: an API key, or a client IP when no key is sent. */
export interface Caller {
  /** `key:<key id>` or `ip:<address>` (IPv6 by its /64): what quotas and rate limits count by. */
  client: string;
  /** The key's name when the caller sent a key. */
  keyName?: string;
  /** Server renders a day for this caller; 0: unlimited. */
  dailyQuota: number;
}

/** A request over a rate limit (HTTP 429 with `retry-after`). */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  readonly code = 'rate_limited';
}

const callers = new WeakMap<FastifyRequest, Caller>();
/** Reservations of `POST /api/generations` requests in flight: settled when the reply is sent. */
const pending = new WeakMap<FastifyRequest, { reservation?: Reservation; idempotencyKey?: string }>();

/** The caller of a request to a keyed route (`/api/` but health and models), set before its body is read. */
export function callerOf(req: FastifyRequest): Caller | undefined {
  return callers.get(req);
}

/**
 * The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`; undefined when it sends
 * neither.
 * @throws ApiKeyError for another Authorization scheme, or two different keys.
 */
function presentedKey(req: FastifyRequest): string | undefined {
  const authorization = req.headers.authorization;
  const header = req.headers['x-api-key'];
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw new ApiKeyError('Authorization: must be "Bearer <API key>"');
    bearer = match[1];
  }
  const apiKey = Array.isArray(header) ? header.join(',') : header;
  if (bearer !== undefined && apiKey !== undefined && bearer !== apiKey) throw new ApiKeyError('Authorization and x-api-key name different keys; send one');
  return bearer ?? apiKey;
}

const routeOf = (req: FastifyRequest) => req.routeOptions.url ?? '';
const isKeyed = (req: FastifyRequest) => routeOf(req).startsWith('/api/') && !OPEN_API_ROUTES.has(routeOf(req));
const isRateLimited = (req: FastifyRequest) => routeOf(req).startsWith('/api/') && !UNLIMITED_API_ROUTES.has(routeOf(req));
const ipClient = (req: FastifyRequest) => `ip:${normalizeIP(req.ip)}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the rate limit counts a request by: `key:<id>` of a well-formed presented key (not yet verified), else `ip:<address>`. */
function rateLimitKey(req: FastifyRequest): string {
  let key: string | undefined;
  try {
    key = presentedKey(req);
  } catch {
    key = undefined;
  }
  const id = key === undefined ? undefined : keyIdOf(key);
  return id !== undefined ? `key:${id}` : ipClient(req);
}

/** The 429 body of a request over its daily quota: the code, a message naming the reset time, and the counts. */
export function quotaExceededBody(view: QuotaView, caller: Caller): { error: { code: 'quota_exceeded'; message: string } & QuotaView } {
  const who = caller.keyName !== undefined ? `API key ${caller.keyName}` : 'this client (by IP address)';
  const message = `the daily quota of ${plural(view.limit ?? 0, 'server render')} for ${who} is used up; it resets at ${view.resets_at} (midnight UTC)`;
  return { error: { code: 'quota_exceeded', message, ...view } };
}

/**
 * Keys, rate limits, daily quotas and CORS on the app (call it before the routes are registered):
 * - CORS (@fastify/cors) for `CORS_ORIGINS` only; without any, no CORS headers (same-origin only).
 * - A rate limit (@fastify/rate-limit) on `/api/` but `/api/health`: `RATE_LIMIT_MAX` requests per window per
 *   presented key id, or per client IP without a key; 429 `rate_limited` with `retry-after`.
 * - API keys on `/api/` but `/api/health` and `/api/models`: a presented key must be valid (401 `unauthorized`
 *   otherwise); without one the caller is its IP, or 401 when `REQUIRE_API_KEY=1`. Checked before the body is read.
 * - The daily quota on `POST /api/generations`: a render is reserved before the handler runs and kept only when
 *   the job is accepted (202); over quota, 429 `quota_exceeded` with the reset time and `retry-after`, and the
 *   handler does not run. A repeat of a counted Idempotency-Key passes uncounted.
 * - `GET /api/quota`: the caller's `{limit, used, remaining, resets_at}`.
 * The access database (`DATA_DIR/access.sqlite`) closes with the app.
 */
export async function registerAccess(app: FastifyInstance, config: AccessConfig & { dataDir: string }, now: () => number = Date.now): Promise<{ keys: ApiKeyStore; quota: QuotaStore }> {
  const db = openAccessDb(join(config.dataDir, ACCESS_DB_FILE));
  const keys = new ApiKeyStore(db);
  const quota = new QuotaStore(db, now);
  app.addHook('onClose', async () => db.close());

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'last-event-id'],
      exposedHeaders: ['location', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      maxAge: 600,
    });
  }

  if (config.rateLimitMax > 0) {
    const window = config.rateLimitWindowMs % 1000 === 0 ? plural(config.rateLimitWindowMs / 1000, 'second') : `${config.rateLimitWindowMs} ms`;
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      allowList: (req) => !isRateLimited(req),
      // by the key id a request claims (verified after: a wrong key is a 401 but still counts), else by IP
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (req, context) => new RateLimitedError(`more than ${plural(context.max, 'request')} in ${window} from this ${rateLimitKey(req).startsWith('key:') ? 'API key' : 'client'}; retry in ${plural(Math.max(1, Math.ceil(context.ttl / 1000)), 'second')}`),
    });
  }

  app.addHook('preParsing', async (req, reply, payload) => {
    if (!isKeyed(req)) return payload;
    let key: string | undefined;
    try {
      key = presentedKey(req);
      if (key === undefined && config.requireApiKey) throw new ApiKeyError('this server needs an API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"');
    } catch (error) {
      reply.header('www-authenticate', 'Bearer realm="ad-studio"');
      throw error;
    }
    if (key === undefined) {
      callers.set(req, { client: ipClient(req), dailyQuota: config.dailyQuota });
      return payload;
    }
    try {
      const info = await keys.verify(key);
      callers.set(req, { client: `key:${info.id}`, keyName: info.name, dailyQuota: info.dailyQuota ?? config.dailyQuota });
    } catch (error) {
      if (error instanceof ApiKeyError) reply.header('www-authenticate', 'Bearer realm="ad-studio", error="invalid_token"');
      throw error;
    }
    return payload;
  });

  app.addHook('preHandler', async (req, reply) => {
    const caller = callers.get(req);
    if (req.method !== 'POST' || routeOf(req) !== GENERATIONS_ROUTE || !caller) return;
    const header = req.headers['idempotency-key'];
    const idempotencyKey = typeof header === 'string' ? header : undefined;
    if (idempotencyKey !== undefined && quota.wasAdmitted(caller.client, idempotencyKey)) {
      pending.set(req, { idempotencyKey });
      return;
    }
    const reservation = quota.reserve(caller.client, caller.dailyQuota);
    if (reservation) {
      pending.set(req, { reservation, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) });
      return;
    }
    const view = quota.view(caller.client, caller.dailyQuota);
    const retryAfter = Math.max(1, Math.ceil((Date.parse(view.resets_at) - now()) / 1000));
    return reply.code(429).header('retry-after', String(retryAfter)).send(quotaExceededBody(view, caller));
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const entry = pending.get(req);
    if (!entry) return payload;
    pending.delete(req);
    if (reply.statusCode === 202) {
      // a repeat the job database did not know made a job after all: it counts, whatever the limit
      const counted = entry.reservation ?? quota.count(callers.get(req)!.client);
      if (entry.idempotencyKey !== undefined) quota.admitted(counted, entry.idempotencyKey);
    } else if (entry.reservation) {
      quota.release(entry.reservation);
    }
    return payload;
  });

  app.get('/api/quota', async (req) => {
    const caller = callers.get(req)!;
    return quota.view(caller.client, caller.dailyQuota);
  });

  return { keys, quota };
}
