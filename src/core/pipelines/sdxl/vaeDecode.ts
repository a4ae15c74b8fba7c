import { sdxlTensorSites, largestActivation } from '../../capabilities.ts';
import type { OnnxSession } from '../../runtime.ts';
import { asFloat32, castFloat, float32, type Float32Tensor, type TensorType } from '../../tensor.ts';
import { checkFeeds } from './contract.ts';
import type { SdxlPipeline } from './load.ts';

const f = Math.fround;

/** The decoded image (or the latents before it) holds NaN or Inf: a model overflowed, typically an fp16 VAE. */
export class NonFiniteImageError extends Error {
  override readonly name = 'NonFiniteImageError';
  readonly code = 'non_finite_image';
}

/** diffusers `AutoencoderKL.tile_overlap_factor`. */
const TILE_OVERLAP = 0.25;

/** Whether every value is finite. */
export function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false;
  return true;
}

/** Copies latent rows `[y0, y1)` and columns `[x0, x1)` of a `[1, C, H, W]` tensor. */
function crop(t: Float32Tensor, y0: number, y1: number, x0: number, x1: number): Float32Tensor {
  const [, c, h, w] = t.dims as [number, number, number, number];
  const [ch, cw] = [Math.min(y1, h) - y0, Math.min(x1, w) - x0];
  const out = new Float32Array(c * ch * cw);
  for (let k = 0; k < c; k++) for (let y = 0; y < ch; y++) out.set(t.data.subarray(k * h * w + (y0 + y) * w + x0, k * h * w + (y0 + y) * w + x0 + cw), (k * ch + y) * cw);
  return float32(out, [1, c, ch, cw]);
}

/**
 * diffusers `AutoencoderKL.blend_v` / `blend_h`, in place on `b`: the first `extent` rows (or columns) of `b`
 * fade in from the last ones of `a`, `b = a * (1 - y / extent) + b * (y / extent)` in float32.
 */
function blend(a: Float32Tensor, b: Float32Tensor, blendExtent: number, axis: 'v' | 'h'): void {
  const [, c, ah, aw] = a.dims as [number, number, number, number];
  const [, , bh, bw] = b.dims as [number, number, number, number];
  const extent = axis === 'v' ? Math.min(ah, bh, blendExtent) : Math.min(aw, bw, blendExtent);
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < extent; y++) {
      const keep = f(1 - y / extent);
      const take = f(y / extent);
      const count = axis === 'v' ? bw : bh;
      for (let x = 0; x < count; x++) {
        const bi = axis === 'v' ? k * bh * bw + y * bw + x : k * bh * bw + x * bw + y;
        const ai = axis === 'v' ? k * ah * aw + (ah - extent + y) * aw + x : k * ah * aw + x * aw + (aw - extent + y);
        b.data[bi] = f(f(a.data[ai]! * keep) + f(b.data[bi]! * take));
      }
    }
  }
}

/** Concatenates `[1, C, h, w_i]` tiles along width, or `[1, C, h_i, W]` rows along height. */
function concat(parts: readonly Float32Tensor[], axis: 'h' | 'v'): Float32Tensor {
  const c = parts[0]!.dims[1]!;
  if (axis === 'v') {
    const w = parts[0]!.dims[3]!;
    const h = parts.reduce((n, p) => n + p.dims[2]!, 0);
    const out = new Float32Array(c * h * w);
    let y0 = 0;
    for (const p of parts) {
      const ph = p.dims[2]!;
      for (let k = 0; k < c; k++) out.set(p.data.subarray(k * ph * w, (k + 1) * ph * w), k * h * w + y0 * w);
      y0 += ph;
    }
    return float32(out, [1, c, h, w]);
  }
  const h = parts[0]!.dims[2]!;
  const w = parts.reduce((n, p) => n + p.dims[3]!, 0);
  const out = new Float32Array(c * h * w);
  let x0 = 0;
  for (const p of parts) {
    const pw = p.dims[3]!;
    for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) out.set(p.data.subarray((k * h + y) * pw, (k * h + y + 1) * pw), k * h * w + y * w + x0);
    x0 += pw;
  }
  return float32(out, [1, c, h, w]);
}

async function runVae(vae: OnnxSession, latents: Float32Tensor): Promise<Float32Tensor> {
  const feeds = { latent_sample: castFloat(latents, vae.inputs.find((i) => i.name === 'latent_sample')!.type as TensorType) };
  checkFeeds('vae_decoder', vae, feeds);
  return asFloat32((await vae.run(feeds, ['sample']))['sample']!);
}

/**
 * diffusers `AutoencoderKL.tiled_decode` with `tile_latent_min_size = tile`: latent tiles of `tile` cells
 * overlapping by a quarter, each decoded alone, blended over a quarter of a decoded tile (rows first, then
 * columns, in place as diffusers does, so later tiles blend with already-blended neighbours) and cropped.
 * @param latents `[1, C, H, W]` float32, already divided by the VAE scaling factor.
 * @returns `[1, 3, 8H, 8W]` float32 (8 = the VAE scale factor `s`).
 */
export async function tiledDecode(vae: OnnxSession, latents: Float32Tensor, tile: number, vaeScaleFactor: number): Promise<Float32Tensor> {
  const [, , h, w] = latents.dims as [number, number, number, number];
  const overlap = Math.floor(tile * (1 - TILE_OVERLAP));
  const sampleTile = tile * vaeScaleFactor;
  const blendExtent = Math.floor(sampleTile * TILE_OVERLAP);
  const rowLimit = sampleTile - blendExtent;
  const rows: Float32Tensor[][] = [];
  for (let i = 0; i < h; i += overlap) {
    const row: Float32Tensor[] = [];
    for (let j = 0; j < w; j += overlap) row.push(await runVae(vae, crop(latents, i, i + tile, j, j + tile)));
    rows.push(row);
  }
  const resultRows = rows.map((row, i) =>
    concat(
      row.map((decoded, j) => {
        if (i > 0) blend(rows[i - 1]![j]!, decoded, blendExtent, 'v');
        if (j > 0) blend(row[j - 1]!, decoded, blendExtent, 'h');
        return crop(decoded, 0, rowLimit, 0, rowLimit);
      }),
      'h',
    ),
  );
  return concat(resultRows, 'v');
}

/**
 * The largest latent tile (in cells, a multiple of 8) whose VAE activations fit one `maxBufferBytes` buffer;
 * undefined when the whole latent image fits (no tiling, exactly as diffusers without `enable_tiling`).
 */
export function vaeTileFor(pipe: SdxlPipeline, vae: OnnxSession, height: number, width: number, maxBufferBytes: number): number | undefined {
  const bytes = vae.inputs.find((i) => i.name === 'latent_sample')?.type === 'float16' ? 2 : 4;
  const sites = sdxlTensorSites(pipe.package.unet, pipe.package.vae, { unet: bytes, vae: bytes });
  const s = pipe.package.vaeScaleFactor;
  const fits = (h: number, w: number) => largestActivation(sites, w * s, h * s, ['vae_decoder']).bytes <= maxBufferBytes;
  if (fits(height, width)) return undefined;
  for (let tile = Math.floor(Math.max(height, width) / 8) * 8; tile >= 8; tile -= 8) if (fits(tile, tile)) return tile;
  return 8;
}

/**
 * Decodes latents with the package's VAE decoder (in tiles when one pass would exceed `maxBufferBytes`),
 * and refuses to return NaN or Inf: latents that are not finite are the UNet's overflow; a decoded image that
 * is not is decoded again with the package's float32 VAE where there is one.
 * @param latents `[1, C, H, W]` float32, already unscaled for the VAE.
 * @returns `[1, 3, sH, sW]` float32 in about [-1, 1], and whether the float32 VAE had to decode it.
 * @throws NonFiniteImageError (code `non_finite_image`) naming the model that overflowed.
 */
export async function decodeLatents(pipe: SdxlPipeline, latents: Float32Tensor, maxBufferBytes = Infinity): Promise<{ sample: Float32Tensor; fp32VaeRetry: boolean }> {
  if (!allFinite(latents.data)) throw new NonFiniteImageError('the UNet produced NaN or Inf latents (an fp16 overflow); try another variant or the server');
  const [, , h, w] = latents.dims as [number, number, number, number];
  const decode = async (vae: OnnxSession) => {
    const tile = vaeTileFor(pipe, vae, h, w, maxBufferBytes);
    return tile ? tiledDecode(vae, latents, tile, pipe.package.vaeScaleFactor) : runVae(vae, latents);
  };
  const sample = await decode(await pipe.session('vae_decoder'));
  if (allFinite(sample.data)) return { sample, fp32VaeRetry: false };
  if (pipe.fp32VaeDecoder) {
    const again = await decode(await pipe.fp32VaeDecoder());
    if (allFinite(again.data)) return { sample: again, fp32VaeRetry: true };
  }
  throw new NonFiniteImageError(`the VAE decoder produced NaN or Inf${pipe.fp32VaeDecoder ? ', also in float32' : ' and the package has no float32 VAE to retry with'}`);
}
