import type { FastifyInstance } from 'fastify';

/** Deepest nesting of objects and arrays a JSON body may have (a generation request needs 2). */
export const MAX_JSON_DEPTH = 16;

/** A body refused before parsing; Fastify answers with `statusCode`. */
export class JsonBodyError extends Error {
  override readonly name = 'JsonBodyError';
  readonly code = 'invalid_request';
  readonly statusCode = 400;
}

/**
 * Whether `text` nests objects and arrays deeper than `maxDepth`, found by one scan that skips string
 * contents (escapes included); linear in the length, no recursion, so a hostile body cannot exhaust the stack.
 * Malformed JSON is left to the parser.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // to the closing quote: the next quote not preceded by an odd run of backslashes
      for (;;) {
        const close = text.indexOf('"', i + 1);
        if (close < 0) return false;
        let slashes = 0;
        while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
        i = close;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces Fastify's JSON parser with one that refuses bodies nested deeper than `MAX_JSON_DEPTH` (400,
 * `invalid_request`) and otherwise parses as Fastify does (secure-json-parse: `__proto__` and
 * `constructor.prototype` keys refused).
 */
export function boundedJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      done(new JsonBodyError(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parse(req, text, done);
  });
}
