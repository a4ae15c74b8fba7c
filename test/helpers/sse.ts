import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One item of an event stream: an event, or a comment line (heartbeats). */
export type StreamItem = { kind: 'event'; id?: string; event?: string; data: string } | { kind: 'comment'; text: string };

/**
 * Reads a Server-Sent Events stream over real HTTP (fetch + eventsource-parser) until `until` returns true
 * for an item or the server ends the stream.
 * @param lastEventId sent as `Last-Event-ID`, as a reconnecting EventSource does.
 * @returns every item, in order.
 */
export async function readEvents(url: string, options: { lastEventId?: string; until?: (item: StreamItem, items: StreamItem[]) => boolean } = {}): Promise<{ status: number; contentType: string | null; items: StreamItem[] }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}) }, signal: controller.signal });
  const items: StreamItem[] = [];
  if (!response.ok || !response.body) return { status: response.status, contentType: response.headers.get('content-type'), items };
  let stop = false;
  const push = (item: StreamItem) => {
    if (stop) return;
    items.push(item);
    if (options.until?.(item, items)) stop = true;
  };
  const parser = createParser({
    onEvent: (e: EventSourceMessage) => push({ kind: 'event', ...(e.id !== undefined ? { id: e.id } : {}), ...(e.event !== undefined ? { event: e.event } : {}), data: e.data }),
    onComment: (text) => push({ kind: 'comment', text }),
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (stop) break;
    }
  } finally {
    controller.abort();
  }
  return { status: response.status, contentType: response.headers.get('content-type'), items };
}

/** The events among stream items, with their JSON data parsed. */
export function events<T = Record<string, unknown>>(items: StreamItem[]): { id?: string; event?: string; data: T }[] {
  return items.flatMap((i) => (i.kind === 'event' ? [{ ...(i.id ? { id: i.id } : {}), ...(i.event ? { event: i.event } : {}), data: JSON.parse(i.data) as T }] : []));
}
