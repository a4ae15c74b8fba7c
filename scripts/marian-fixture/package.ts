/**
 * Writes the tiny random-weight Marian translation package (an opus-mt-ko-en stand-in) in the layout of an
 * optimum export of Helsinki-NLP/opus-mt-ko-en: `encoder_model.onnx`, `decoder_model.onnx`,
 * `decoder_with_past_model.onnx`, `config.json`, `generation_config.json`, `source.spm`, `target.spm`,
 * `vocab.json`, `tokenizer_config.json`, `special_tokens_map.json`. Its translations are nonsense English
 * pieces (random weights): it proves the loading and decoding, not the language.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMarianDecoder, buildMarianEncoder, tinyMarianConfig } from './graphs.ts';
import { marianVocabulary } from './vocabulary.ts';

/** Seed of the fixture's weights. */
export const MARIAN_FIXTURE_SEED = 7;

/**
 * Writes the package into `outDir` (created when missing).
 * @returns bytes written.
 */
export function writeMarianPackage(outDir: string, seed = MARIAN_FIXTURE_SEED): number {
  mkdirSync(outDir, { recursive: true });
  const vocabulary = marianVocabulary();
  const config = tinyMarianConfig(vocabulary.vocabSize);
  const pad = vocabulary.vocab['<pad>']!;
  const files: Record<string, Uint8Array | string> = {
    'config.json': JSON.stringify(config, null, 2),
    // as opus-mt-ko-en's: beam search of 4 there; the product decodes greedily
    'generation_config.json': JSON.stringify({ bad_words_ids: [[pad]], bos_token_id: 0, decoder_start_token_id: pad, eos_token_id: 0, forced_eos_token_id: 0, max_length: 512, num_beams: 4, pad_token_id: pad }, null, 2),
    'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'MarianTokenizer', source_lang: 'ko', target_lang: 'en', eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>', model_max_length: 512, separate_vocabs: false }, null, 2),
    'special_tokens_map.json': JSON.stringify({ eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>' }, null, 2),
    'vocab.json': JSON.stringify(vocabulary.vocab),
    'source.spm': vocabulary.sourceSpm,
    'target.spm': vocabulary.targetSpm,
  };
  let bytes = 0;
  for (const [name, data] of Object.entries(files)) {
    writeFileSync(join(outDir, name), data);
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  }
  const graphs = { encoder_model: buildMarianEncoder(config, seed), decoder_model: buildMarianDecoder(config, seed, false), decoder_with_past_model: buildMarianDecoder(config, seed, true) };
  for (const [name, graph] of Object.entries(graphs)) {
    const { model } = graph.build();
    writeFileSync(join(outDir, `${name}.onnx`), model);
    bytes += model.byteLength;
  }
  return bytes;
}
