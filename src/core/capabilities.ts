/**
 * Whether a device can run a model package: the capability check as data, not scattered conditions.
 * The manifest lists the tensors that grow with image size; the largest one at the requested size must
 * fit in one WebGPU buffer and one storage binding, and fp16 models need `shader-f16`.
 */
import type { UNetConfig, VaeConfig } from './loading/modelPackage.ts';
import type { ModelManifest } from './loading/manifest.ts';

/**
 * A tensor whose element count is `scale * tokens ** power`, with `tokens = ceil(width / downscale) *
 * ceil(height / downscale)`: attention scores (power 2) or feature maps (power 1).
 */
export interface TensorSite {
  component: string;
  what: string;
  scale: number;
  downscale: number;
  power: 1 | 2;
  bytesPerElement: number;
}

/** Bytes of the largest tensor at `width` x `height` pixels, and which one it is. */
export function largestActivation(sites: readonly TensorSite[], width: number, height: number): { bytes: number; site?: TensorSite } {
  let best: { bytes: number; site?: TensorSite } = { bytes: 0 };
  for (const site of sites) {
    const tokens = Math.ceil(width / site.downscale) * Math.ceil(height / site.downscale);
    const bytes = site.scale * tokens ** site.power * site.bytesPerElement;
    if (bytes > best.bytes) best = { bytes, site };
  }
  return best;
}

const headsOf = (unet: UNetConfig, level: number): number => {
  const heads = unet.num_attention_heads ?? unet.attention_head_dim;
  return Array.isArray(heads) ? heads[level]! : heads;
};

/**
 * The image-size-dependent tensors of an SDXL UNet (batch 2 for classifier-free guidance) and VAE decoder
 * (batch 1), from their diffusers configs: self-attention scores per attention level, the GEGLU
 * feed-forward activations, the UNet's full-resolution features, the VAE mid-block attention and the VAE's
 * upsampled feature maps.
 */
export function sdxlTensorSites(unet: UNetConfig, vae: VaeConfig, bytes: { unet: number; vae: number }): TensorSite[] {
  const s = 2 ** (vae.block_out_channels.length - 1);
  const sites: TensorSite[] = [];
  const batch = 2;
  unet.down_block_types.forEach((type, level) => {
    const downscale = s * 2 ** level;
    const channels = unet.block_out_channels[level]!;
    sites.push({ component: 'unet', what: `features, level ${level}`, scale: batch * channels, downscale, power: 1, bytesPerElement: bytes.unet });
    if (!type.startsWith('CrossAttn')) return;
    sites.push({ component: 'unet', what: `self-attention scores, level ${level}`, scale: batch * headsOf(unet, level), downscale, power: 2, bytesPerElement: bytes.unet });
    sites.push({ component: 'unet', what: `feed-forward, level ${level}`, scale: batch * channels * 8, downscale, power: 1, bytesPerElement: bytes.unet });
  });
  const reversed = [...vae.block_out_channels].reverse();
  sites.push({ component: 'vae_decoder', what: 'mid-block attention scores', scale: 1, downscale: s, power: 2, bytesPerElement: bytes.vae });
  reversed.forEach((channels, j) => {
    const downscale = Math.max(1, s / 2 ** (j + 1));
    sites.push({ component: 'vae_decoder', what: `features after up block ${j}`, scale: channels, downscale, power: 1, bytesPerElement: bytes.vae });
  });
  return sites;
}

/** What the app learned about this device's WebGPU adapter (all zeros when there is none). */
export interface AdapterReport {
  available: boolean;
  /** Why there is no adapter (no `navigator.gpu`, `requestAdapter` returned null, ...). */
  unavailableReason?: string;
  description: string;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export type RoutePreference = 'auto' | 'device' | 'server';

/** Where a request runs, and the reason shown to the user. */
export interface RouteDecision {
  target: 'device' | 'server';
  /** 'webgpu' or 'wasm' for the device; absent for the server. */
  executionProvider?: 'webgpu' | 'wasm';
  reason: string;
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;

/**
 * Checks the adapter against the model at `width` x `height`.
 * @returns the first unmet need as a sentence, or null when the device can run it on WebGPU.
 */
export function unmetNeed(adapter: AdapterReport, manifest: Pick<ModelManifest, 'dtypes' | 'activations' | 'largestWeightBytes'>, width: number, height: number): string | null {
  if (!adapter.available) return `no WebGPU adapter (${adapter.unavailableReason ?? 'unknown reason'})`;
  const fp16 = Object.entries(manifest.dtypes).filter(([, t]) => t === 'float16').map(([c]) => c);
  if (fp16.length && !adapter.features.includes('shader-f16')) return `the model is fp16 (${fp16.join(', ')}) and this GPU lacks shader-f16`;
  const limit = Math.min(adapter.maxBufferSize, adapter.maxStorageBufferBindingSize);
  const { bytes, site } = largestActivation(manifest.activations, width, height);
  const largest = Math.max(bytes, manifest.largestWeightBytes);
  if (largest > limit) {
    const what = bytes >= manifest.largestWeightBytes && site ? `${site.component} ${site.what}` : 'the largest weight';
    return `${what} needs a ${mib(largest)} buffer at ${width}x${height}; this GPU allows ${mib(limit)} (maxBufferSize ${mib(adapter.maxBufferSize)}, maxStorageBufferBindingSize ${mib(adapter.maxStorageBufferBindingSize)})`;
  }
  return null;
}

/**
 * Chooses where a request runs. Auto: this device on WebGPU when it meets the model's needs, otherwise
 * the server. "This device" forces local (WASM when there is no adapter); "Server" forces the server.
 */
export function decideRoute(preference: RoutePreference, adapter: AdapterReport, manifest: Parameters<typeof unmetNeed>[1] | undefined, width: number, height: number): RouteDecision {
  if (preference === 'server') return { target: 'server', reason: 'Server chosen in settings' };
  if (!manifest) {
    return preference === 'device'
      ? { target: 'device', executionProvider: adapter.available ? 'webgpu' : 'wasm', reason: 'This device chosen in settings (model details not loaded yet)' }
      : { target: 'server', reason: 'Model details are not available on this device yet' };
  }
  const unmet = unmetNeed(adapter, manifest, width, height);
  if (preference === 'device') {
    if (!adapter.available) return { target: 'device', executionProvider: 'wasm', reason: `This device chosen in settings; ${unmet}, so it runs on the CPU (WASM)` };
    return { target: 'device', executionProvider: 'webgpu', reason: unmet ? `This device chosen in settings, although ${unmet}` : `This device chosen in settings: ${adapter.description}` };
  }
  if (unmet) return { target: 'server', reason: `Server: ${unmet}` };
  return { target: 'device', executionProvider: 'webgpu', reason: `This device: ${adapter.description} meets the model's needs at ${width}x${height}` };
}
