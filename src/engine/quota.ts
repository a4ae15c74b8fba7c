/** The caller's daily quota of server renders, as `GET /api/quota` answers (snake_case, as the API). */
export interface ServerQuota {
  /** Renders a day; null: unlimited. */
  limit: number | null;
  /** Renders the server accepted today (UTC day). */
  used: number;
  /** Renders left today; null: unlimited. */
  remaining: number | null;
  /** When the count starts again (the next UTC midnight), ISO 8601. */
  resets_at: string;
}

const isQuota = (body: unknown): body is ServerQuota => {
  const q = body as Partial<ServerQuota> | null;
  return typeof q === 'object' && q !== null && typeof q.used === 'number' && typeof q.resets_at === 'string' && (q.limit === null || typeof q.limit === 'number') && (q.remaining === null || typeof q.remaining === 'number');
};

/**
 * Reads this client's quota of server renders (the page sends no API key: the server counts it by IP address).
 * @returns undefined when the server cannot be reached or does not say (offline, an older server, a deployment
 *   that needs an API key): the page then shows no count. Never throws.
 */
export async function fetchServerQuota(baseUrl = ''): Promise<ServerQuota | undefined> {
  try {
    const response = await fetch(`${baseUrl}/api/quota`, { cache: 'no-store' });
    if (!response.ok) return undefined;
    const body: unknown = await response.json();
    return isQuota(body) ? body : undefined;
  } catch {
    return undefined;
  }
}
