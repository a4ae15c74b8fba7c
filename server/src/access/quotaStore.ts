import type Database from 'better-sqlite3';

/** A caller's quota of server renders today, as `GET /api/quota` shows it. */
export interface QuotaView {
  /** Renders a day; null: unlimited. */
  limit: number | null;
  /** Renders accepted today (UTC). */
  used: number;
  /** Renders left today; null: unlimited. */
  remaining: number | null;
  /** When the count starts again: the next UTC midnight, ISO 8601. */
  resets_at: string;
}

/** The UTC day of `ms` (`YYYY-MM-DD`), and the ISO time of the midnight that ends it. */
export function utcDay(ms: number): { day: string; resetsAt: string } {
  const date = new Date(ms);
  const next = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  return { day: date.toISOString().slice(0, 10), resetsAt: new Date(next).toISOString() };
}

/** A render counted before its job is committed; `release` gives it back when no job was made. */
export interface Reservation {
  client: string;
  day: string;
}

/**
 * Daily counts of accepted server renders per client (`key:<id>` or `ip:<address>`), in the access database:
 * one row per client and UTC day, so counts survive restarts and the day turns at UTC midnight. A render is
 * reserved atomically before its job is made (one `INSERT … ON CONFLICT … WHERE used < limit`: concurrent
 * requests cannot pass the limit together) and released when none was made. Idempotency keys of counted renders
 * are kept per client, so a repeat is recognised (and not counted or refused) even over the quota.
 */
export class QuotaStore {
  /** @param now the clock, milliseconds since the epoch (tests move it across midnight). */
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** `client`'s count today against `limit` (0: unlimited). */
  view(client: string, limit: number): QuotaView {
    const { day, resetsAt } = utcDay(this.now());
    const row = this.db.prepare('SELECT used FROM quota_usage WHERE client = ? AND day = ?').get(client, day) as { used: number } | undefined;
    const used = row?.used ?? 0;
    return { limit: limit > 0 ? limit : null, used, remaining: limit > 0 ? Math.max(0, limit - used) : null, resets_at: resetsAt };
  }

  /**
   * Counts one render for `client` today if that stays within `limit` (0: unlimited).
   * @returns the reservation, or undefined when the quota is used up.
   */
  reserve(client: string, limit: number): Reservation | undefined {
    const { day } = utcDay(this.now());
    const { changes } = this.db
      .prepare('INSERT INTO quota_usage (client, day, used) VALUES (?, ?, 1) ON CONFLICT (client, day) DO UPDATE SET used = used + 1 WHERE ? = 0 OR used < ?')
      .run(client, day, limit, limit);
    return changes === 1 ? { client, day } : undefined;
  }

  /** Gives back a reservation whose request made no job. */
  release(reservation: Reservation): void {
    this.db.prepare('UPDATE quota_usage SET used = used - 1 WHERE client = ? AND day = ? AND used > 0').run(reservation.client, reservation.day);
  }

  /** Counts a render that had no reservation (a repeat key the job database did not know), whatever the limit. */
  count(client: string): Reservation {
    const { day } = utcDay(this.now());
    this.db.prepare('INSERT INTO quota_usage (client, day, used) VALUES (?, ?, 1) ON CONFLICT (client, day) DO UPDATE SET used = used + 1').run(client, day);
    return { client, day };
  }

  /** Remembers that `idempotencyKey` made a counted render for `client`. */
  admitted(reservation: Reservation, idempotencyKey: string): void {
    this.db.prepare('INSERT OR IGNORE INTO quota_admissions (client, idempotency_key, day) VALUES (?, ?, ?)').run(reservation.client, idempotencyKey, reservation.day);
  }

  /** Whether `idempotencyKey` already made a counted render for `client` (a repeat: not counted again). */
  wasAdmitted(client: string, idempotencyKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM quota_admissions WHERE client = ? AND idempotency_key = ?').get(client, idempotencyKey) !== undefined;
  }
}
