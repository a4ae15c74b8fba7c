import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** File name of the access database in `DATA_DIR`: API keys (hashed) and daily quota counts. */
export const ACCESS_DB_FILE = 'access.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  params TEXT NOT NULL,
  daily_quota INTEGER,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS quota_usage (
  client TEXT NOT NULL,
  day TEXT NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (client, day)
);
CREATE TABLE IF NOT EXISTS quota_admissions (
  client TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  day TEXT NOT NULL,
  PRIMARY KEY (client, idempotency_key)
);
`;

/**
 * Opens (creating) the access database at `path`, a SQLite file of its own beside the job database: WAL with
 * `synchronous=FULL` (a counted render survives a crash), and a busy timeout so `npm run keys` can write while
 * the server runs. `:memory:` gives a throwaway one.
 */
export function openAccessDb(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
