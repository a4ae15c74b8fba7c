/**
 * Whether and how a device can run a model package: the capability check as data, not scattered conditions.
 * The manifest lists each variant's needs (shader-f16, the largest weight, the tensors that grow with the
 * image, the bytes each session holds); this module compares them with the device and picks the variant,
 * the execution provider and the route, with the reason in plain words.
 */
import type { UNetConfig, VaeConfig } from './loading/modelPackage.ts';
import { variantFiles, type ManifestVariant, type ModelManifest } from './loading/manifest.ts';

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

/** Bytes of the largest tensor at `width` x `height` pixels (of `components` only, when given), and which one. */
export function largestActivation(sites: readonly TensorSite[], width: number, height: number, components?: readonly string[]): { bytes: number; site?: TensorSite } {
  let best: { bytes: number; site?: TensorSite } = { bytes: 0 };
  for (const site of sites) {
    if (components && !components.includes(site.component)) continue;
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
 * @param bytes bytes per element of the UNet's and the VAE's activations (2 for fp16, 4 for fp32).
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
  /**
   * A software rasteriser on the CPU (SwiftShader, llvmpipe, or `GPUAdapterInfo.isFallbackAdapter`): a
   * full-size SDXL image takes hours there.
   */
  software: boolean;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** Names of CPU rasterisers that present themselves as WebGPU adapters (Chromium's SwiftShader, Mesa's). */
const SOFTWARE_RASTERISERS = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i;

/** Whether an adapter is a software rasteriser, from `GPUAdapterInfo` (`isFallbackAdapter`, vendor, architecture, description). */
export function isSoftwareAdapter(info: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string; device?: string }): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_RASTERISERS.test([info.vendor, info.architecture, info.description, info.device].join(' '));
}

/** What else the choice looks at: storage, memory, and what happened on this device before. */
export interface DeviceState {
  adapter: AdapterReport;
  /** Bytes this origin may still store (`quota - usage`); undefined when the browser does not say. */
  storageAvailableBytes?: number;
  /** False when nothing can be kept (a private window, or no IndexedDB): the model is downloaded every visit. */
  canCache: boolean;
  /** Bytes of each variant's files already stored and verified, by variant name. */
  storedBytes: Readonly<Record<string, number>>;
  /** Variants that failed to load here, with the reason in plain words. */
  failed: Readonly<Record<string, string>>;
  /** Memory the device can give one generation, bytes (GPU memory for WebGPU, the 4 GiB heap for WASM). */
  memoryBudgetBytes: number;
}

export type RoutePreference = 'auto' | 'device' | 'server';
export type DeviceProvider = 'webgpu' | 'wasm';

/** How sessions are kept while generating: all at once, or the UNet only (text encoders before, VAE after). */
export type Residency = 'resident' | 'sequential';

/** Where a request runs, and the reason shown to the user. */
export interface RouteDecision {
  target: 'device' | 'server';
  /** For the device. */
  executionProvider?: DeviceProvider;
  /** The variant the device runs (or the one being downloaded while the server works). */
  variant?: string;
  residency?: Residency;
  /** Largest VAE activation the device allows, bytes (`vaeActivationCap`): the VAE decodes in tiles under it. */
  vaeCapBytes?: number;
  /** The variant must be downloaded first: 'now' before generating, 'background' while the server generates. */
  download?: 'now' | 'background';
  /** In plain English, with the technical details. */
  reason: string;
  /** Why, as a code an interface can say in its own language (`reason` keeps the details). */
  why: RouteWhy;
}

/**
 * Why a route was chosen: `server_chosen` / `device_chosen` (the user's setting), `details_pending` (no manifest
 * yet), `no_variant`, `no_webgpu`, `unmet` (no variant fits this device), `software_adapter` (a full-size model
 * on a CPU renderer), `downloading` (the server works while the device downloads), `not_kept` (this window
 * cannot keep the model), `device_runs`.
 */
export type RouteWhy = 'server_chosen' | 'device_chosen' | 'details_pending' | 'no_variant' | 'no_webgpu' | 'unmet' | 'software_adapter' | 'downloading' | 'not_kept' | 'device_runs';

const MiB = 1024 * 1024;
const GB = 1e9;
const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;
const gb = (bytes: number) => `${(bytes / GB).toFixed(bytes < GB ? 2 : 1)} GB`;

/** wasm32's 4 GiB heap, less what onnxruntime-web's runtime and the page need. */
export const WASM_MEMORY_BUDGET = 3.5 * 1024 ** 3;

/** Components a text-to-image run uses in each phase. */
const PHASES = { encode: ['text_encoder', 'text_encoder_2'], denoise: ['unet'], decode: ['vae_decoder'] } as const;

/**
 * Estimated peak memory of a generation at `width` x `height`, bytes: the sessions held in the phase that
 * needs most (all of them when `resident`; in `sequential` the UNet stays between generations and the text
 * encoders or the VAE come and go) plus three times that phase's largest activation (its input, its output and
 * one temporary).
 * The VAE decodes in tiles whose activations stay under `vaeCapBytes` (see `vaeActivationCap`). A model, not a
 * measurement: real runtimes add allocator slack and kernels' scratch buffers.
 */
export function estimatePeakBytes(variant: ManifestVariant, width: number, height: number, residency: Residency, vaeCapBytes = Infinity): number {
  const held = (names: readonly string[]) => names.reduce((n, c) => n + (variant.components[c as keyof ManifestVariant['components']]?.residentBytes ?? 0), 0);
  const all = held([...PHASES.encode, ...PHASES.denoise, ...PHASES.decode]);
  const act = (names: readonly string[]) => {
    const bytes = largestActivation(variant.needs.activations, width, height, names).bytes;
    return 3 * (names.includes('vae_decoder') ? Math.min(bytes, vaeCapBytes) : bytes);
  };
  if (residency === 'resident') return all + Math.max(act(PHASES.denoise), act(PHASES.decode));
  // the UNet stays between generations, so from the second one on it is held while the text encoders run
  const unet = held(PHASES.denoise);
  return Math.max(unet + held(PHASES.encode), unet + act(PHASES.denoise), unet + held(PHASES.decode) + act(PHASES.decode));
}

/**
 * The largest VAE activation a generation may allocate, bytes: one GPU buffer and storage binding on WebGPU, and
 * an eighth of the memory budget (the VAE's 1 GiB attention at 1024x1024 would crowd the UNet out of a 4 GiB
 * device). The pipeline decodes in tiles that stay under it.
 */
export function vaeActivationCap(device: DeviceState, executionProvider: DeviceProvider): number {
  const memory = device.memoryBudgetBytes / 8;
  if (executionProvider === 'wasm') return memory;
  return Math.min(device.adapter.maxBufferSize, device.adapter.maxStorageBufferBindingSize, memory);
}

/**
 * The first unmet need of `variant` on `executionProvider` at `width` x `height`, as a sentence; null when
 * the device can run it. WebGPU: shader-f16 for fp16 variants, and the largest weight and UNet activation
 * within one buffer and storage binding (the VAE decodes in tiles). WASM: the estimated peak within the heap.
 * Both: the memory budget in sequential residency.
 */
export function variantUnmet(variant: ManifestVariant, device: DeviceState, executionProvider: DeviceProvider, width: number, height: number): string | null {
  const { adapter } = device;
  const needs = variant.needs;
  if (executionProvider === 'webgpu') {
    if (!adapter.available) return `no WebGPU adapter (${adapter.unavailableReason ?? 'unknown reason'})`;
    if (needs.shaderF16 && !adapter.features.includes('shader-f16')) return `the ${variant.name} model computes in fp16 and this GPU lacks shader-f16`;
    const limit = Math.min(adapter.maxBufferSize, adapter.maxStorageBufferBindingSize);
    const { bytes, site } = largestActivation(needs.activations, width, height, ['unet']);
    const largest = Math.max(bytes, needs.largestInitializerBytes);
    if (largest > limit) {
      const what = bytes >= needs.largestInitializerBytes && site ? `${site.component} ${site.what}` : `the ${variant.name} model's largest weight`;
      return `${what} needs a ${mib(largest)} buffer at ${width}x${height}; this GPU allows ${mib(limit)} (maxBufferSize ${mib(adapter.maxBufferSize)}, maxStorageBufferBindingSize ${mib(adapter.maxStorageBufferBindingSize)})`;
    }
  } else if (needs.shaderF16) {
    return `the ${variant.name} model computes in fp16, which the CPU (WASM) runs slowly; an fp32 variant suits it`;
  }
  const budget = executionProvider === 'wasm' ? Math.min(device.memoryBudgetBytes, WASM_MEMORY_BUDGET) : device.memoryBudgetBytes;
  const peak = estimatePeakBytes(variant, width, height, 'sequential', vaeActivationCap(device, executionProvider));
  if (peak > budget) return `the ${variant.name} model needs about ${gb(peak)} of memory at ${width}x${height}; this device can give about ${gb(budget)}`;
  return null;
}

/** Bytes of `variant` still to download, given what is stored. */
export function bytesToDownload(manifest: ModelManifest, variant: ManifestVariant, device: DeviceState): number {
  const total = variantFiles(manifest, variant).reduce((n, f) => n + f.size, 0);
  return Math.max(0, total - (device.storedBytes[variant.name] ?? 0));
}

/** The variant each candidate is, and why it cannot run here (null: it can). */
export interface VariantVerdict {
  name: string;
  unmet: string | null;
}

/**
 * Variants in the manifest's order with why each cannot run on `executionProvider`: unmet device needs, an
 * earlier load failure here, or too little storage for its download.
 */
export function variantVerdicts(manifest: ModelManifest, device: DeviceState, executionProvider: DeviceProvider, width: number, height: number): VariantVerdict[] {
  return manifest.variants.map((variant) => {
    const failed = device.failed[variant.name];
    if (failed) return { name: variant.name, unmet: `it failed on this device before (${failed})` };
    const unmet = variantUnmet(variant, device, executionProvider, width, height);
    if (unmet) return { name: variant.name, unmet };
    const missing = bytesToDownload(manifest, variant, device);
    if (device.canCache && device.storageAvailableBytes !== undefined && missing > device.storageAvailableBytes) {
      return { name: variant.name, unmet: `the ${variant.name} model needs ${gb(missing)} more storage; this browser allows ${gb(device.storageAvailableBytes)}` };
    }
    return { name: variant.name, unmet: null };
  });
}

/** Whether the device's sessions must come and go during a generation to stay within its memory. */
export function residencyFor(variant: ManifestVariant, device: DeviceState, executionProvider: DeviceProvider, width: number, height: number): Residency {
  const budget = executionProvider === 'wasm' ? Math.min(device.memoryBudgetBytes, WASM_MEMORY_BUDGET) : device.memoryBudgetBytes;
  return estimatePeakBytes(variant, width, height, 'resident', vaeActivationCap(device, executionProvider)) > budget ? 'sequential' : 'resident';
}

/**
 * Chooses where a request runs and, on this device, which variant.
 * - Auto: the first variant this device's WebGPU can run; the server when none can, when the adapter is a
 *   software rasteriser and the model is full-size, or while a full-size model is still downloading (the
 *   download goes on in the background and the device takes over once it is verified).
 * - This device: the first variant WebGPU can run even on a software adapter; WASM without an adapter.
 * - Server: always.
 */
export function decideRoute(preference: RoutePreference, device: DeviceState, manifest: ModelManifest | undefined, width: number, height: number): RouteDecision {
  if (preference === 'server') return { target: 'server', why: 'server_chosen', reason: 'Server chosen in settings' };
  const { adapter } = device;
  if (!manifest) {
    return preference === 'device'
      ? { target: 'device', executionProvider: adapter.available ? 'webgpu' : 'wasm', why: 'device_chosen', reason: 'This device chosen in settings (model details not loaded yet)' }
      : { target: 'server', why: 'details_pending', reason: 'Model details are not available on this device yet' };
  }
  const ep: DeviceProvider = adapter.available ? 'webgpu' : 'wasm';
  const verdicts = variantVerdicts(manifest, device, ep, width, height);
  const pick = verdicts.find((v) => v.unmet === null);
  const first = verdicts[0];
  if (preference === 'device') {
    const chosen = manifest.variants.find((v) => v.name === (pick ?? first)?.name);
    if (!chosen) return { target: 'server', why: 'no_variant', reason: 'This device chosen in settings, but the model has no variant to run' };
    const where = ep === 'wasm' ? `on the CPU (WASM): ${adapter.unavailableReason ?? 'no WebGPU adapter'}` : `on ${adapter.description}`;
    const caveat = pick ? '' : `, although ${first?.unmet}`;
    return {
      target: 'device',
      executionProvider: ep,
      variant: chosen.name,
      residency: residencyFor(chosen, device, ep, width, height),
      vaeCapBytes: vaeActivationCap(device, ep),
      ...(bytesToDownload(manifest, chosen, device) > 0 ? { download: 'now' as const } : {}),
      why: 'device_chosen',
      reason: `This device chosen in settings: the ${chosen.name} model ${where}${caveat}`,
    };
  }
  if (!adapter.available) return { target: 'server', why: 'no_webgpu', reason: `Server: no WebGPU adapter (${adapter.unavailableReason ?? 'unknown reason'})` };
  if (!pick) return { target: 'server', why: 'unmet', reason: `Server: ${first?.unmet ?? 'the model has no variant'}` };
  const variant = manifest.variants.find((v) => v.name === pick.name)!;
  if (manifest.realSize && adapter.software) {
    return { target: 'server', why: 'software_adapter', reason: `Server: ${adapter.description} is a software renderer on the CPU, where a full-size model takes hours per image. Choose "This device" to run it here anyway` };
  }
  const missing = bytesToDownload(manifest, variant, device);
  const residency = residencyFor(variant, device, 'webgpu', width, height);
  if (manifest.realSize && missing > 0) {
    const total = variantFiles(manifest, variant).reduce((n, f) => n + f.size, 0);
    const done = Math.floor((100 * (total - missing)) / total);
    const keep = device.canCache ? '' : ' (this browser window cannot keep it, so it would download again next visit)';
    return {
      target: 'server',
      variant: variant.name,
      residency,
      download: device.canCache ? 'background' : undefined,
      why: device.canCache ? 'downloading' : 'not_kept',
      reason: device.canCache
        ? `Server, while this device downloads the ${variant.name} model (${done}% of ${gb(total)}); images are made here once it is verified`
        : `Server: the ${variant.name} model is ${gb(total)}${keep}`,
    };
  }
  return {
    target: 'device',
    executionProvider: 'webgpu',
    variant: variant.name,
    residency,
    vaeCapBytes: vaeActivationCap(device, 'webgpu'),
    ...(missing > 0 ? { download: 'now' as const } : {}),
    why: 'device_runs',
    reason: `This device: ${adapter.description} runs the ${variant.name} model at ${width}x${height}`,
  };
}
