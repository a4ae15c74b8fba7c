/**
 * Keys, limits and the billing gate over real HTTP on loopback: API keys hashed at rest (scrypt) and checked
 * (401), the per-key rate limit (429 with retry-after), the daily quota of server renders per key and per client
 * (Idempotency-Key repeats not counted, 429 quota_exceeded with the reset time and nothing queued, counts kept
 * across a restart, the day turning at UTC midnight), CORS for configured origins only, and per-route 413s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { accessConfigFromEnv } from '../../server/src/access/accessConfig.ts';
import { ACCESS_DB_FILE, openAccessDb } from '../../server/src/access/accessDb.ts';
import { ApiKeyStore } from '../../server/src/access/apiKeys.ts';
import { QuotaStore, utcDay } from '../../server/src/access/quotaStore.ts';
import type { ServerConfig } from '../../server/src/config.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { FIXTURE_ID, ROOT } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ad-studio-access-'));
  dirs.push(dir);
  return dir;
};

/** A server on `dataDir` with `settings`; closed after the test (the folder stays for a restart). */
async function serve(dataDir: string, settings: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const server = await startServer({ dataDir, ...settings });
  servers.push(server);
  return server;
}

/** `npm run keys -- <args>` on `dataDir`: its exit status and output. */
function keysCli(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/access/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Adds a key with the CLI and returns it (the last line it prints). */
function addKey(dataDir: string, name: string, ...options: string[]): string {
  const run = keysCli(dataDir, 'add', name, ...options);
  expect(run.status, run.stderr).toBe(0);
  const key = run.stdout.trim().split('\n').at(-1)!;
  expect(key).toMatch(/^ads_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  return key;
}

const cafe = AD_CASES[0]!;
const valid = { prompt: cafe.prompt, width: 64, height: 64, seed: 3, num_inference_steps: 2 };
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const submit = (server: RunningServer, headers: Record<string, string> = {}, body: unknown = valid) =>
  fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const quotaOf = async (server: RunningServer, headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}/api/quota`, { headers });
  expect(response.status).toBe(200);
  return response.json();
};
const jobCount = (server: RunningServer) => server.services.jobs.list({ limit: 100 }).jobs.length;

describe('API keys', () => {
  it('the CLI prints a key once and stores only a salted scrypt hash: no database file holds the key', async () => {
    const dataDir = tempDir();
    const key = addKey(dataDir, 'bakery-app', '--daily-quota', '5');
    const secret = key.split('_').slice(2).join('_');
    const files = readdirSync(dataDir).filter((f) => f.startsWith(ACCESS_DB_FILE));
    expect(files).toContain(ACCESS_DB_FILE);
    for (const file of files) {
      const bytes = readFileSync(join(dataDir, file));
      expect(bytes.includes(key), file).toBe(false);
      expect(bytes.includes(secret), file).toBe(false);
      expect(bytes.includes(Buffer.from(secret, 'base64url')), file).toBe(false);
    }
    const db = new Database(join(dataDir, ACCESS_DB_FILE), { readonly: true });
    const row = db.prepare('SELECT * FROM api_keys').get() as { name: string; salt: Buffer; hash: Buffer; params: string; daily_quota: number };
    db.close();
    expect(row).toMatchObject({ name: 'bakery-app', params: 'scrypt:16384:8:1:32', daily_quota: 5 });
    expect(row.salt).toHaveLength(16);
    expect(row.hash).toHaveLength(32);
    // two keys never share a salt
    addKey(dataDir, 'flower-shop');
    const salts = new Database(join(dataDir, ACCESS_DB_FILE), { readonly: true }).prepare('SELECT hex(salt) AS s FROM api_keys').all() as { s: string }[];
    expect(new Set(salts.map((r) => r.s)).size).toBe(2);

    const list = keysCli(dataDir, 'list');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^bakery-app\tid [0-9a-f]{12}\tcreated .*\tactive, 0 of 5 server renders today$/m);
    expect(list.stdout).not.toContain(secret);
    expect(keysCli(dataDir, 'add', 'bakery-app')).toMatchObject({ status: 2, stderr: expect.stringMatching(/already named bakery-app/) });
    expect(keysCli(dataDir, 'add', 'x', '--daily-quota', 'lots')).toMatchObject({ status: 2, stderr: expect.stringMatching(/--daily-quota: must be a non-negative integer/) });
    expect(keysCli(dataDir, 'add', '../etc')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^keys: name: must be/) });
    expect(keysCli(dataDir, 'revoke', 'nobody')).toMatchObject({ status: 2, stderr: expect.stringMatching(/no active key is named "nobody"/) });
    expect(keysCli(dataDir, 'frobnicate')).toMatchObject({ status: 2, stderr: expect.stringMatching(/usage: npm run keys/) });
  });

  it('REQUIRE_API_KEY=1: the generation API answers 401 without a key or with a wrong, malformed or revoked one; app, models and health stay open', async () => {
    const dataDir = tempDir();
    const key = addKey(dataDir, 'agency');
    const server = await serve(dataDir, { requireApiKey: true });
    const wrong = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const unknownId = `ads_${'0'.repeat(12)}_${key.slice(-43)}`;
    const refusals: [Record<string, string>, RegExp][] = [
      [{}, /needs an API key/],
      [auth(wrong), /not known/],
      [auth(unknownId), /not known/],
      [auth('sk-live-123'), /malformed/],
      [{ authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` }, /must be "Bearer <API key>"/],
      [{ authorization: `Bearer ${key}`, 'x-api-key': wrong }, /different keys/],
    ];
    for (const [headers, message] of refusals) {
      for (const [method, path] of [['GET', '/api/quota'], ['POST', '/api/generations'], ['GET', '/api/generations'], ['GET', `/api/images/${'0'.repeat(64)}.png`]] as const) {
        const response = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: JSON.stringify(valid) } : {}) });
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="ad-studio"/);
        const { error } = await response.json();
        expect(error.code).toBe('unauthorized');
        expect(error.message).toMatch(message);
      }
    }
    expect(jobCount(server)).toBe(0);
    // the right key, either header
    expect((await fetch(`${server.url}/api/quota`, { headers: auth(key) })).status).toBe(200);
    expect((await fetch(`${server.url}/api/quota`, { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await submit(server, { 'x-api-key': key })).status).toBe(202);
    // open without a key: health, the model list and packages, the app
    for (const path of ['/api/health', '/api/models', `/models/${FIXTURE_ID}/manifest.json`, '/']) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
    // revoked while the server runs (the CLI writes the same database): refused from the next request on
    expect(keysCli(dataDir, 'revoke', 'agency').status).toBe(0);
    const revoked = await fetch(`${server.url}/api/quota`, { headers: auth(key) });
    expect(revoked.status).toBe(401);
    expect((await revoked.json()).error.message).toMatch(/revoked/);
  });

  it('without REQUIRE_API_KEY a key is optional, but a presented key must be valid', async () => {
    const dataDir = tempDir();
    const key = addKey(dataDir, 'agency');
    const server = await serve(dataDir);
    expect((await fetch(`${server.url}/api/quota`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/quota`, { headers: auth(key) })).status).toBe(200);
    const bad = await fetch(`${server.url}/api/quota`, { headers: auth(key.slice(0, -1) + (key.endsWith('x') ? 'y' : 'x')) });
    expect(bad.status).toBe(401);
    expect((await bad.json()).error.code).toBe('unauthorized');
  });

  it('junk credentials (an empty header included) on every keyed route are 401s, never 5xx', async () => {
    const dataDir = tempDir();
    const key = addKey(dataDir, 'real');
    const server = await serve(dataDir);
    const junk = ['', ' ', 'Bearer', 'Bearer ', 'Bearer  a b', 'bearer ' + key.toUpperCase(), `Bearer ${key}x`, `Bearer ${key.slice(0, 20)}`, `Bearer ads_${'f'.repeat(12)}_${'-'.repeat(43)}`, 'Bearer ' + 'a'.repeat(7000), 'Digest x', 'ads_'];
    const paths = [['GET', '/api/quota'], ['POST', '/api/generations'], ['GET', '/api/generations?limit=0'], ['DELETE', '/api/generations/x'], ['GET', '/api/generations/x/events'], ['GET', '/api/images/x.png']] as const;
    for (const value of junk) {
      for (const header of ['authorization', 'x-api-key']) {
        for (const [method, path] of paths) {
          const response = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json', [header]: value }, ...(method === 'POST' ? { body: JSON.stringify(valid) } : {}) });
          await response.arrayBuffer();
          expect(response.status, `${method} ${path} ${header}: ${value.slice(0, 40)}`).toBe(401);
        }
      }
    }
    expect(jobCount(server)).toBe(0);
  });

  it('a verified key is remembered by its SHA-256: later verifications read its row and run no scrypt', async () => {
    const db = openAccessDb(':memory:');
    const store = new ApiKeyStore(db);
    const { key } = await store.create('cached');
    expect((await store.verify(key)).name).toBe('cached');
    // a hash changed behind the store's back goes unnoticed by this store (it does not hash again) but not by a new one
    db.prepare('UPDATE api_keys SET hash = zeroblob(32)').run();
    expect((await store.verify(key)).name).toBe('cached');
    await expect(new ApiKeyStore(db).verify(key)).rejects.toMatchObject({ code: 'unauthorized' });
    // revocation is read from the row each time
    store.revoke('cached');
    await expect(store.verify(key)).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/revoked/) });
    db.close();
  });
});

describe('rate limit', () => {
  it('per key, or per client IP without one: 429 rate_limited with retry-after past RATE_LIMIT_MAX; health, models and the app are not limited', async () => {
    const dataDir = tempDir();
    const [a, b] = [addKey(dataDir, 'a'), addKey(dataDir, 'b')];
    const server = await serve(dataDir, { rateLimitMax: 3, rateLimitWindowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/api/quota`, { headers: auth(a) });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
    }
    const limited = await fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(a) }, body: JSON.stringify(valid) });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const { error } = await limited.json();
    expect(error.code).toBe('rate_limited');
    expect(error.message).toMatch(/^more than 3 requests in 60 seconds from this API key; retry in (\d+) seconds?$/);
    expect(Number(/retry in (\d+)/.exec(error.message)![1])).toBe(retryAfter);
    expect(jobCount(server)).toBe(0);
    // another key and the keyless client (its IP) have their own counts
    expect((await fetch(`${server.url}/api/quota`, { headers: auth(b) })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/api/quota`)).status).toBe(200);
    const byIp = await fetch(`${server.url}/api/quota`);
    expect(byIp.status).toBe(429);
    expect((await byIp.json()).error.message).toMatch(/from this client/);
    for (const path of ['/api/health', `/models/${FIXTURE_ID}/manifest.json`, '/']) {
      for (let i = 0; i < 4; i++) expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
    }
  });
});

describe('Idempotency-Key per API key', () => {
  it("a key's Idempotency-Keys are its own: the same key string from two API keys makes two jobs, a repeat from one its job", async () => {
    const dataDir = tempDir();
    const bakery = addKey(dataDir, 'bakery-app');
    const florist = addKey(dataDir, 'flower-shop');
    const server = await serve(dataDir);
    const first = await submit(server, { authorization: `Bearer ${bakery}`, 'idempotency-key': 'order-1' });
    const other = await submit(server, { authorization: `Bearer ${florist}`, 'idempotency-key': 'order-1' });
    const repeat = await submit(server, { authorization: `Bearer ${bakery}`, 'idempotency-key': 'order-1' });
    expect([first.status, other.status, repeat.status]).toEqual([202, 202, 200]);
    const [a, b, c] = await Promise.all([first.json(), other.json(), repeat.json()]);
    expect(b.id).not.toBe(a.id);
    expect(c.id).toBe(a.id);
  });
});

describe('daily quota of server renders', () => {
  it('per client IP: accepted jobs count, repeats and refusals do not; over quota a 429 names the reset time and queues nothing', async () => {
    const server = await serve(tempDir(), { dailyQuota: 2 });
    const { resetsAt } = utcDay(Date.now());
    expect(await quotaOf(server)).toEqual({ limit: 2, used: 0, remaining: 2, resets_at: resetsAt });
    expect(resetsAt).toMatch(/T00:00:00\.000Z$/);

    const first = await submit(server, { 'idempotency-key': 'order-1' });
    expect(first.status).toBe(202);
    const again = await submit(server, { 'idempotency-key': 'order-1' });
    expect(again.status).toBe(200);
    expect((await submit(server, {}, { ...valid, width: 65 })).status).toBe(400);
    expect((await submit(server, { 'idempotency-key': 'order-1' }, { ...valid, seed: 4 })).status).toBe(422);
    expect(await quotaOf(server)).toMatchObject({ used: 1, remaining: 1 });

    expect((await submit(server)).status).toBe(202);
    expect(await quotaOf(server)).toMatchObject({ limit: 2, used: 2, remaining: 0 });
    const jobs = jobCount(server);
    const over = await submit(server, { 'idempotency-key': 'order-3' });
    expect(over.status).toBe(429);
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const { error } = await over.json();
    expect(error).toEqual({
      code: 'quota_exceeded',
      message: `the daily quota of 2 server renders for this client (by IP address) is used up; it resets at ${resetsAt} (midnight UTC)`,
      limit: 2,
      used: 2,
      remaining: 0,
      resets_at: resetsAt,
    });
    expect(jobCount(server)).toBe(jobs);
    // a repeat of a counted key still answers with its job, over quota, uncounted
    const repeat = await submit(server, { 'idempotency-key': 'order-1' });
    expect(repeat.status).toBe(200);
    expect((await repeat.json()).id).toBe((await first.json()).id);
    expect(await quotaOf(server)).toMatchObject({ used: 2, remaining: 0 });
  });

  it("per API key (the key's own quota or DAILY_QUOTA), apart from the IP's; concurrent requests cannot pass the limit", async () => {
    const dataDir = tempDir();
    const one = addKey(dataDir, 'one', '--daily-quota', '1');
    const three = addKey(dataDir, 'three');
    const unlimited = addKey(dataDir, 'unlimited', '--daily-quota', '0');
    const server = await serve(dataDir, { dailyQuota: 3 });
    expect(await quotaOf(server, auth(one))).toMatchObject({ limit: 1, used: 0, remaining: 1 });
    expect((await submit(server, auth(one))).status).toBe(202);
    const over = await submit(server, auth(one));
    expect(over.status).toBe(429);
    expect((await over.json()).error.message).toMatch(/^the daily quota of 1 server render for API key one is used up; it resets at/);
    expect(await quotaOf(server, auth(one))).toMatchObject({ used: 1, remaining: 0 });
    expect(await quotaOf(server)).toMatchObject({ limit: 3, used: 0 });

    const before = jobCount(server);
    const statuses = await Promise.all(Array.from({ length: 6 }, () => submit(server, auth(three)).then((r) => r.status)));
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(jobCount(server) - before).toBe(3);
    expect(await quotaOf(server, auth(three))).toMatchObject({ limit: 3, used: 3, remaining: 0 });

    for (let i = 0; i < 4; i++) expect((await submit(server, { 'x-api-key': unlimited })).status).toBe(202);
    expect(await quotaOf(server, auth(unlimited))).toMatchObject({ limit: null, used: 4, remaining: null });
  });

  it('counts survive a restart', async () => {
    const dataDir = tempDir();
    const key = addKey(dataDir, 'shop');
    let server = await serve(dataDir, { dailyQuota: 2 });
    expect((await submit(server)).status).toBe(202);
    expect((await submit(server, auth(key))).status).toBe(202);
    expect((await submit(server, auth(key))).status).toBe(202);
    await servers.pop()!.close();
    server = await serve(dataDir, { dailyQuota: 2 });
    expect(await quotaOf(server)).toMatchObject({ used: 1, remaining: 1 });
    expect(await quotaOf(server, auth(key))).toMatchObject({ used: 2, remaining: 0 });
    expect((await submit(server, auth(key))).status).toBe(429);
  });

  it('the day turns at UTC midnight', () => {
    let now = Date.parse('2031-03-04T23:59:59.500Z');
    const quota = new QuotaStore(openAccessDb(':memory:'), () => now);
    expect(quota.reserve('ip:1.2.3.4', 1)).toEqual({ client: 'ip:1.2.3.4', day: '2031-03-04' });
    expect(quota.reserve('ip:1.2.3.4', 1)).toBeUndefined();
    expect(quota.view('ip:1.2.3.4', 1)).toEqual({ limit: 1, used: 1, remaining: 0, resets_at: '2031-03-05T00:00:00.000Z' });
    now = Date.parse('2031-03-05T00:00:00.000Z');
    expect(quota.view('ip:1.2.3.4', 1)).toEqual({ limit: 1, used: 0, remaining: 1, resets_at: '2031-03-06T00:00:00.000Z' });
    expect(quota.reserve('ip:1.2.3.4', 1)).toEqual({ client: 'ip:1.2.3.4', day: '2031-03-05' });
    // a reservation made before midnight is given back to its own day
    quota.release({ client: 'ip:1.2.3.4', day: '2031-03-04' });
    expect(quota.view('ip:1.2.3.4', 1).used).toBe(1);
    expect(utcDay(Date.parse('2031-12-31T12:00:00Z')).resetsAt).toBe('2032-01-01T00:00:00.000Z');
  });
});

describe('CORS', () => {
  it('only CORS_ORIGINS get CORS headers (errors included); by default none does', async () => {
    const dataDir = tempDir();
    const server = await serve(dataDir, { corsOrigins: ['http://shop.example', 'https://agency.example:8443'], dailyQuota: 1 });
    const allowed = await fetch(`${server.url}/api/quota`, { headers: { origin: 'https://agency.example:8443' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://agency.example:8443');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    const denied = await fetch(`${server.url}/api/quota`, { headers: { origin: 'https://evil.example' } });
    expect(denied.status).toBe(200);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await fetch(`${server.url}/api/generations`, {
      method: 'OPTIONS',
      headers: { origin: 'http://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://shop.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, DELETE');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization.*content-type.*idempotency-key/);
    const deniedPreflight = await fetch(`${server.url}/api/generations`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(deniedPreflight.headers.get('access-control-allow-origin')).toBeNull();

    // a cross-origin caller can read its 429 and 401 bodies
    expect((await submit(server, { origin: 'http://shop.example' })).status).toBe(202);
    const over = await submit(server, { origin: 'http://shop.example' });
    expect(over.status).toBe(429);
    expect(over.headers.get('access-control-allow-origin')).toBe('http://shop.example');
    const unauthorized = await fetch(`${server.url}/api/quota`, { headers: { origin: 'http://shop.example', 'x-api-key': 'nope' } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('http://shop.example');

    const plain = await serve(tempDir());
    for (const origin of ['http://shop.example', plain.url]) {
      expect((await fetch(`${plain.url}/api/quota`, { headers: { origin } })).headers.get('access-control-allow-origin')).toBeNull();
    }
    expect((await fetch(`${plain.url}/api/generations`, { method: 'OPTIONS', headers: { origin: 'http://shop.example', 'access-control-request-method': 'POST' } })).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('settings and body limits', () => {
  it('access settings are checked, naming the variable', () => {
    expect(accessConfigFromEnv({})).toEqual({ requireApiKey: false, dailyQuota: 50, rateLimitMax: 600, rateLimitWindowMs: 60_000, corsOrigins: [], trustProxy: false });
    expect(accessConfigFromEnv({ REQUIRE_API_KEY: '1', DAILY_QUOTA: '0', CORS_ORIGINS: 'https://a.example, http://localhost:5173', TRUST_PROXY: '1' })).toMatchObject({ requireApiKey: true, dailyQuota: 0, corsOrigins: ['https://a.example', 'http://localhost:5173'], trustProxy: 1 });
    expect(accessConfigFromEnv({ TRUST_PROXY: '10.0.0.0/8,127.0.0.1' }).trustProxy).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(() => accessConfigFromEnv({ REQUIRE_API_KEY: 'yes' })).toThrow(/REQUIRE_API_KEY must be 0 or 1/);
    expect(() => accessConfigFromEnv({ DAILY_QUOTA: '-1' })).toThrow(/DAILY_QUOTA must be an integer/);
    expect(() => accessConfigFromEnv({ RATE_LIMIT_MAX: '1.5' })).toThrow(/RATE_LIMIT_MAX must be an integer/);
    expect(() => accessConfigFromEnv({ RATE_LIMIT_WINDOW_MS: '10' })).toThrow(/RATE_LIMIT_WINDOW_MS must be an integer in \[1000/);
    expect(() => accessConfigFromEnv({ CORS_ORIGINS: 'https://a.example/' })).toThrow(/CORS_ORIGINS entries must be origins/);
    expect(() => accessConfigFromEnv({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
  });

  it("each 413 names its route's own limit: 16 MiB for POST /api/generations, 1 MiB elsewhere", async () => {
    const server = await serve(tempDir());
    const big = (mib: number) => JSON.stringify({ ...valid, prompt: 'x'.repeat(mib * 1024 * 1024) });
    const post = await submit(server, {}, JSON.parse(big(17)));
    expect(post.status).toBe(413);
    expect((await post.json()).error.message).toBe('the request body is over 16 MiB, the limit of POST /api/generations');
    // 2 MiB is within the generation route's limit (a 400 for the prompt's length, not a 413)
    expect((await submit(server, {}, JSON.parse(big(2)))).status).toBe(400);
    const id = '00000000-0000-0000-0000-000000000000';
    const del = await fetch(`${server.url}/api/generations/${id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: big(2) });
    expect(del.status).toBe(413);
    const { error } = await del.json();
    expect(error).toMatchObject({ code: 'invalid_request', message: 'the request body is over 1 MiB, the limit of DELETE /api/generations/:id' });
  });
});
