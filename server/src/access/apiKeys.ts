import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * A key as handed out: `ads_<id>_<secret>`, the id 12 hex digits (stored in clear, it finds the row) and the
 * secret 32 random bytes in base64url (only its scrypt hash is stored).
 */
export const API_KEY_PATTERN = /^ads_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** What a key name may be: a letter or digit, then up to 63 of letters, digits and `._@-`. */
export const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Largest per-key daily quota. */
export const MAX_DAILY_QUOTA = 1_000_000_000;

/** scrypt cost: N 2^14, r 8, p 1 (16 MiB, about 50 ms a hash on one core), 32-byte output. */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
const PARAMS = `scrypt:${SCRYPT.N}:${SCRYPT.r}:${SCRYPT.p}:${SCRYPT.keylen}`;
/** Verified keys remembered (by SHA-256 of the key) so each request does not run scrypt. */
const CACHE_ENTRIES = 10_000;

/** An API key as listed: never the key or its hash. Times are ISO 8601 (UTC). */
export interface ApiKeyInfo {
  id: string;
  name: string;
  /** Server renders a day for this key; absent: the server's `DAILY_QUOTA`; 0: unlimited. */
  dailyQuota?: number;
  createdAt: string;
  revokedAt?: string;
}

/** A presented key that is malformed, unknown, revoked or wrong (HTTP 401). */
export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError';
  readonly code = 'unauthorized';
}

/** A key administration request that cannot be done (a name taken or unknown, a bad quota). */
export class KeyAdminError extends Error {
  override readonly name = 'KeyAdminError';
  readonly code = 'invalid_request';
}

interface Row {
  id: string;
  name: string;
  salt: Buffer;
  hash: Buffer;
  params: string;
  daily_quota: number | null;
  created_at: string;
  revoked_at: string | null;
}

const info = (row: Row): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  ...(row.daily_quota !== null ? { dailyQuota: row.daily_quota } : {}),
  createdAt: row.created_at,
  ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
});

function scrypt(secret: string, salt: Buffer, params: string): Promise<Buffer> {
  const [kind, N, r, p, keylen] = params.split(':');
  if (kind !== 'scrypt') throw new Error(`unknown key hash ${kind}`);
  const options: ScryptOptions = { N: Number(N), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCallback(secret, salt, Number(keylen), options, (error, hash) => (error ? reject(error) : resolve(hash))));
}

const fingerprint = (key: string) => createHash('sha256').update(key).digest('hex');

/** The key id of a well-formed key, unverified (what the rate limit counts by); undefined for anything else. */
export function keyIdOf(presented: string): string | undefined {
  return API_KEY_PATTERN.exec(presented)?.[1];
}

/**
 * API keys in the access database, each stored as a random 16-byte salt and the scrypt hash of its secret
 * (`node:crypto`); the key itself is shown once, when made, and is never written anywhere. Verification
 * compares with `timingSafeEqual` and remembers verified keys in memory by their SHA-256, so scrypt runs once
 * per key and process; a revoked key is refused at once (the row is read on every verification).
 */
export class ApiKeyStore {
  private readonly verified = new Map<string, string>();

  constructor(private readonly db: Database.Database) {}

  /**
   * Makes a key named `name` (unique among keys not revoked).
   * @param dailyQuota server renders a day for this key (0: unlimited); absent: the server's `DAILY_QUOTA`.
   * @returns the key, to show once, and its listing.
   * @throws KeyAdminError for a bad name or quota, or a name an active key has.
   */
  async create(name: string, dailyQuota?: number): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!KEY_NAME_PATTERN.test(name)) throw new KeyAdminError(`name: must be 1 to 64 of letters, digits and ._@- starting with a letter or digit (got ${JSON.stringify(name.slice(0, 80))})`);
    if (dailyQuota !== undefined && (!Number.isInteger(dailyQuota) || dailyQuota < 0 || dailyQuota > MAX_DAILY_QUOTA)) {
      throw new KeyAdminError(`daily quota: must be an integer in [0, ${MAX_DAILY_QUOTA}] (got ${dailyQuota})`);
    }
    if (this.db.prepare('SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL').get(name)) throw new KeyAdminError(`name: an active key is already named ${name}; revoke it first`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const salt = randomBytes(16);
    const hash = await scrypt(secret, salt, PARAMS);
    const createdAt = new Date().toISOString();
    this.db.prepare('INSERT INTO api_keys (id, name, salt, hash, params, daily_quota, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, name, salt, hash, PARAMS, dailyQuota ?? null, createdAt);
    return { key: `ads_${id}_${secret}`, info: info(this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row) };
  }

  /** Every key, revoked ones included, oldest first. */
  list(): ApiKeyInfo[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as Row[]).map(info);
  }

  /**
   * Revokes the active key named `name`: it is refused from the next request on, in every process.
   * @throws KeyAdminError when no active key has that name.
   */
  revoke(name: string): ApiKeyInfo {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE name = ? AND revoked_at IS NULL').get(name) as Row | undefined;
    if (!row) throw new KeyAdminError(`name: no active key is named ${JSON.stringify(name.slice(0, 80))}`);
    this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(new Date().toISOString(), row.id);
    return info(this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(row.id) as Row);
  }

  /**
   * The active key `presented` is. The first verification of a key runs scrypt (off the event loop, on
   * libuv's thread pool); later ones of the same key only read its row.
   * @throws ApiKeyError (`unauthorized`) for a malformed, unknown, revoked or wrong key.
   */
  async verify(presented: string): Promise<ApiKeyInfo> {
    const match = API_KEY_PATTERN.exec(presented);
    if (!match) throw new ApiKeyError('the API key is malformed (expected ads_<12 hex digits>_<43 base64url characters>)');
    const [, id, secret] = match as unknown as [string, string, string];
    const print = fingerprint(presented);
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new ApiKeyError('the API key is not known here');
    if (row.revoked_at !== null) throw new ApiKeyError(`the API key was revoked at ${row.revoked_at}`);
    if (this.verified.get(print) === id) return info(row);
    const hash = await scrypt(secret, row.salt, row.params);
    if (hash.length !== row.hash.length || !timingSafeEqual(hash, row.hash)) throw new ApiKeyError('the API key is not known here');
    if (this.verified.size >= CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(print, id);
    return info(row);
  }
}
