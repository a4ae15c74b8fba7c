/**
 * The prompt builder on the command line (src/core/prompt):
 *
 *   npm run --silent prompt -- "<text>" [--style <style>] [--industry <industry>]
 *       prints one JSON line {"prompt","negative_prompt","style","industry","untranslated","removed_text",
 *       "dropped","tokens","over_limit","num_inference_steps","guidance_scale","scheduler"}
 *   npm run --silent prompt < requests.jsonl
 *       with no text argument: reads JSON lines {"text","style"?,"industry"?} from stdin and prints one JSON
 *       line per input line; a bad line prints {"error":{"code","message"}} and the rest go on; exit 1 at the
 *       end if any failed.
 *
 * Default style ultra_realistic (the flags give defaults for stdin lines too). Tokens are counted with the real
 * CLIP BPE when ../shared/reference/clip has openai/CLIP's merges, otherwise with the built-in estimator.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { describeError, EngineError } from '../src/core/errors.ts';
import { buildPrompt, STYLE_PRESETS, type BuildOptions, type IndustryId, type Style } from '../src/core/prompt/index.ts';
import { clipVocabFromMerges } from '../src/core/tokenizers/byteLevel.ts';
import { ClipTokenizer } from '../src/core/tokenizers/clipTokenizer.ts';

const MERGES = resolve(import.meta.dirname, '../../shared/reference/clip/bpe_simple_vocab_16e6.txt.gz');

/** The untruncated real CLIP count, when the merges are there. */
function realCounter(): BuildOptions['countTokens'] {
  if (!existsSync(MERGES)) return undefined;
  const merges = gunzipSync(readFileSync(MERGES)).toString('utf8').split('\n').slice(1, 49152 - 256 - 2 + 1);
  // a long maxLength so nothing is truncated while counting
  const clip = new ClipTokenizer(clipVocabFromMerges(merges), merges, { padToken: '<|endoftext|>', maxLength: 1024 });
  return (text) => clip.encode(text).tokenCount;
}

function parseArgs(argv: string[]): { text?: string; style?: string; industry?: string } {
  const out: { text?: string; style?: string; industry?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--style' || arg === '--industry') {
      const value = argv[++i];
      if (value === undefined) throw new EngineError('invalid_request', `${arg.slice(2)}: needs a value`, [{ field: arg.slice(2), message: 'needs a value' }]);
      out[arg === '--style' ? 'style' : 'industry'] = value;
    } else if (arg.startsWith('--')) throw new EngineError('invalid_request', `unknown option ${arg} (use --style, --industry)`);
    else out.text = out.text === undefined ? arg : `${out.text} ${arg}`;
  }
  return out;
}

function run(request: { text?: unknown; style?: unknown; industry?: unknown }, options: BuildOptions): string {
  const built = buildPrompt({ text: request.text as string, style: (request.style ?? 'ultra_realistic') as Style, ...(request.industry !== undefined ? { industry: request.industry as IndustryId } : {}) }, options);
  const { num_inference_steps, guidance_scale, scheduler } = STYLE_PRESETS[built.style];
  return JSON.stringify({ ...built, num_inference_steps, guidance_scale, scheduler });
}

const errorLine = (error: unknown) => {
  const { code, message } = describeError(error);
  return JSON.stringify({ error: { code, message } });
};

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.log(errorLine(error));
    return 1;
  }
  const options: BuildOptions = {};
  const counter = realCounter();
  if (counter) options.countTokens = counter;
  if (args.text !== undefined) {
    try {
      console.log(run(args, options));
      return 0;
    } catch (error) {
      console.log(errorLine(error));
      return 1;
    }
  }
  let failed = false;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    try {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        throw new EngineError('invalid_request', 'line: not JSON', [{ field: 'line', message: 'not JSON' }]);
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new EngineError('invalid_request', 'line: must be a JSON object {"text","style"?,"industry"?}');
      console.log(run({ style: args.style, industry: args.industry, ...(request as object) }, options));
    } catch (error) {
      failed = true;
      console.log(errorLine(error));
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
