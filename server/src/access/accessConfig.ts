/** Who may call the API and how much: settings from the environment (README, "Keys, quotas, rate limits and CORS"). */
export interface AccessConfig {
  /** Every generation API request needs a valid API key (`REQUIRE_API_KEY=1`); otherwise a key is optional. */
  requireApiKey: boolean;
  /** Server renders a day per API key (unless the key has its own) or per client IP; 0: unlimited. */
  dailyQuota: number;
  /** Requests to `/api/` (but `/api/health`) per window per API key or client IP; 0: no limit. */
  rateLimitMax: number;
  /** The rate limit's window, milliseconds. */
  rateLimitWindowMs: number;
  /** Origins (`https://shop.example`) whose pages may call the API (CORS); empty: same-origin only. */
  corsOrigins: string[];
  /** Fastify's `trustProxy`: whether (true), how many hops (a number) or which proxies (addresses, CIDRs) to trust for the client IP. */
  trustProxy: boolean | number | string[];
}

const integer = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
};

/**
 * `REQUIRE_API_KEY` (0 or 1, default 0), `DAILY_QUOTA` (default 50), `RATE_LIMIT_MAX` (default 600),
 * `RATE_LIMIT_WINDOW_MS` (default 60000), `CORS_ORIGINS` (comma-separated origins, default none) and
 * `TRUST_PROXY` (`true`, a hop count, or comma-separated addresses/CIDRs; default: none).
 * @throws RangeError naming the variable for an invalid value.
 */
export function accessConfigFromEnv(env: NodeJS.ProcessEnv): AccessConfig {
  const require = env.REQUIRE_API_KEY ?? '0';
  if (require !== '0' && require !== '1') throw new RangeError(`REQUIRE_API_KEY must be 0 or 1, got "${require}"`);
  const corsOrigins = (env.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new RangeError(`CORS_ORIGINS entries must be origins such as https://shop.example or http://localhost:5173 (scheme, host, port; no path or trailing slash), got "${origin}"`);
    }
  }
  const proxy = env.TRUST_PROXY?.trim();
  const trustProxy = !proxy || proxy === 'false' ? false : proxy === 'true' ? true : /^\d+$/.test(proxy) ? Number(proxy) : proxy.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    requireApiKey: require === '1',
    dailyQuota: integer('DAILY_QUOTA', env.DAILY_QUOTA, 50, 0, 1_000_000_000),
    rateLimitMax: integer('RATE_LIMIT_MAX', env.RATE_LIMIT_MAX, 600, 0, 1_000_000_000),
    rateLimitWindowMs: integer('RATE_LIMIT_WINDOW_MS', env.RATE_LIMIT_WINDOW_MS, 60_000, 1000, 86_400_000),
    corsOrigins,
    trustProxy,
  };
}

/** `trustProxy` as Fastify's options type takes it: a hop count becomes the function Fastify makes of one. */
export function trustProxyOption(value: AccessConfig['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}
