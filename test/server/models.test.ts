/**
 * Model packages on the server: `npm run models -- add` from a folder and from a URL, browser variants
 * converted on the way, shared files stored once, manifests built from the persisted hash cache, and the
 * manifest's claims about each variant checked against the files.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addModel } from '../../server/src/models/install.ts';
import { buildManifest } from '../../server/src/models/manifest.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';

const CHUNK = 64 * 1024;
let modelsDir: string;

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'ad-studio-models-'));
  await addModel(FIXTURE_DIR, { modelsDir, id: 'style-a', variants: ['q4f16', 'q4f32', 'q8'], chunkBytes: CHUNK });
});
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

describe('npm run models -- add', () => {
  it('registers the export and its variants; the manifest lists what each variant needs', async () => {
    const manifest = await buildManifest('style-a', join(modelsDir, 'style-a'), { chunkBytes: CHUNK });
    expect(manifest.variants.map((v) => v.name)).toEqual(['q4f16', 'q4f32', 'q8', 'fp32']);
    const [q4f16, q4f32, q8, fp32] = manifest.variants;
    expect([q4f16!.needs.shaderF16, q4f32!.needs.shaderF16, q8!.needs.shaderF16, fp32!.needs.shaderF16]).toEqual([true, false, false, false]);
    // the tiny VAE config has force_upcast false, so the fp16 variant's VAE computes in fp16
    expect(q4f16!.components.vae_decoder!.dtype).toBe('float16');
    expect(q4f32!.components.unet).toMatchObject({ model: 'variants/q4f32/unet/model.onnx', externalData: ['variants/q4f32/unet/model.onnx_data'], dtype: 'float32' });
    // q4f32 stores fp16 weights and casts them on load: the session holds more than the download
    expect(q4f32!.components.unet!.residentBytes).toBeGreaterThan(0);
    expect(q4f32!.components.vae_decoder!.residentBytes).toBeGreaterThan(q4f32!.components.vae_decoder!.bytes * 1.5);
    for (const v of manifest.variants) {
      const distinct = new Map(v.files.map((p) => manifest.files.find((f) => f.path === p)!).map((f) => [f.sha256, f.size]));
      expect(v.needs.downloadBytes).toBe([...distinct.values()].reduce((n, s) => n + s, 0));
      expect(v.needs.weightBytes).toBe(Object.values(v.components).reduce((n, c) => n + c.bytes, 0));
    }
    expect(q4f16!.needs.downloadBytes).toBeLessThan(fp32!.needs.downloadBytes / 2);
    // the peak memory estimate at the native size: sequential residency holds less than resident
    expect(q4f32!.needs.peakMemoryBytes.side).toBe(64);
    expect(q4f32!.needs.peakMemoryBytes.sequential).toBeLessThan(q4f32!.needs.peakMemoryBytes.resident);
    expect(q4f32!.needs.peakMemoryBytes.sequential).toBeGreaterThan(q4f32!.components.unet!.residentBytes);
  });

  it('every file and chunk hash in the manifest is the hash of the bytes on disk', async () => {
    const manifest = await buildManifest('style-a', join(modelsDir, 'style-a'), { chunkBytes: CHUNK });
    const { createHash } = await import('node:crypto');
    for (const file of manifest.files) {
      const bytes = readFileSync(join(modelsDir, 'style-a', file.path));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
      expect(file.chunks).toHaveLength(Math.max(1, Math.ceil(bytes.length / CHUNK)));
      expect(file.chunks[0]).toBe(createHash('sha256').update(bytes.subarray(0, CHUNK)).digest('hex'));
    }
  });

  it('stores a file two packages share once (hard links of one blob), converted VAEs included', async () => {
    await addModel(FIXTURE_DIR, { modelsDir, id: 'style-b', variants: ['q4f32'], chunkBytes: CHUNK });
    const a = statSync(join(modelsDir, 'style-a/variants/q4f32/vae_decoder/model.onnx_data'));
    const b = statSync(join(modelsDir, 'style-b/variants/q4f32/vae_decoder/model.onnx_data'));
    expect(b.ino).toBe(a.ino);
    expect(statSync(join(modelsDir, 'style-a/unet/model.onnx_data')).ino).toBe(statSync(join(modelsDir, 'style-b/unet/model.onnx_data')).ino);
  });

  it('a later start reads the persisted hashes instead of hashing the files again; a changed file is hashed again', async () => {
    const hashed: string[] = [];
    await buildManifest('style-a', join(modelsDir, 'style-a'), { chunkBytes: CHUNK, onHashing: (p) => hashed.push(p) });
    expect(hashed).toEqual([]);
    const path = join(modelsDir, 'style-a/scheduler/scheduler_config.json');
    const config = readFileSync(path);
    rmSync(path); // break the hard link before changing the file
    writeFileSync(path, config.toString().replace('"steps_offset": 1', '"steps_offset": 1 '));
    const again = await buildManifest('style-a', join(modelsDir, 'style-a'), { chunkBytes: CHUNK, onHashing: (p) => hashed.push(p) });
    expect(hashed).toEqual(['scheduler/scheduler_config.json']);
    expect(again.files.find((f) => f.path === 'scheduler/scheduler_config.json')!.size).toBe(config.length + 1);
  });

  it('refuses an id the API would refuse and an existing package, naming them', async () => {
    await expect(addModel(FIXTURE_DIR, { modelsDir, id: 'Bad Id', variants: [], chunkBytes: CHUNK })).rejects.toThrow(/--id must match/);
    await expect(addModel(FIXTURE_DIR, { modelsDir, id: 'style-a', variants: [], chunkBytes: CHUNK })).rejects.toThrow(/already installed/);
  });
});

describe('npm run models -- add <url>', () => {
  let http: Server;
  let base: string;
  const asked: string[] = [];
  beforeAll(async () => {
    http = createServer((req, res) => {
      asked.push(req.url!);
      const path = join(FIXTURE_DIR, decodeURIComponent(req.url!.replace(/^\/repo\/resolve\/main\//, '')));
      if (!req.url!.startsWith('/repo/resolve/main/') || path.includes('..')) return void res.writeHead(404).end();
      try {
        statSync(path);
      } catch {
        return void res.writeHead(404).end();
      }
      res.writeHead(200);
      createReadStream(path).pipe(res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as { port: number }).port}/repo/resolve/main/`;
  });
  afterAll(() => http.close());

  it('downloads an optimum export served over HTTP (the Hugging Face resolve/main layout), byte for byte', async () => {
    const manifest = await addModel(base, { modelsDir, id: 'from-url', variants: ['q4f32'], chunkBytes: CHUNK });
    expect(manifest.variants.map((v) => v.name)).toEqual(['q4f32', 'fp32']);
    for (const path of ['unet/model.onnx', 'unet/model.onnx_data', 'text_encoder_2/model.onnx_data', 'tokenizer/vocab.json', 'vae_encoder/model.onnx']) {
      expect(readFileSync(join(modelsDir, 'from-url', path)).equals(readFileSync(join(FIXTURE_DIR, path)))).toBe(true);
    }
    // it probed for a second shard, found none, and stopped
    expect(asked).toContain('/repo/resolve/main/unet/model.onnx_data_1');
    expect(asked).not.toContain('/repo/resolve/main/unet/model.onnx_data_2');
  });

  it('names the missing file of a URL that is not an SDXL export', async () => {
    await expect(addModel(base.replace('/repo/', '/nothing/'), { modelsDir, id: 'missing', variants: [], chunkBytes: CHUNK })).rejects.toThrow(/model_index\.json: HTTP 404/);
  });
});
