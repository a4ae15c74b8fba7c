import { describe, expect, it } from 'vitest';
import {
  decideRoute,
  estimatePeakBytes,
  isSoftwareAdapter,
  largestActivation,
  sdxlTensorSites,
  variantVerdicts,
  type AdapterReport,
  type DeviceState,
} from '../../src/core/capabilities.ts';
import type { ManifestVariant, ModelManifest } from '../../src/core/loading/manifest.ts';
import type { UNetConfig, VaeConfig } from '../../src/core/loading/modelPackage.ts';

// The real SDXL base 1.0 configs (stabilityai/stable-diffusion-xl-base-1.0, unet/ and vae/config.json).
const sdxlUnet: UNetConfig = {
  sample_size: 128,
  in_channels: 4,
  block_out_channels: [320, 640, 1280],
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  attention_head_dim: [5, 10, 20],
  cross_attention_dim: 2048,
};
const sdxlVae: VaeConfig = { block_out_channels: [128, 256, 512, 512], latent_channels: 4, scaling_factor: 0.13025 };

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const MB = 1e6;

/**
 * A variant with the sizes `npm run convert` gave for the full-size fixture (bytes on disk and held by the
 * sessions, `npm run bench:scale`), one file per component for the download arithmetic.
 */
function variant(name: string, o: { f16: boolean; unet: number; te: number; vae: number; largest: number }): ManifestVariant {
  const dtype: 'float16' | 'float32' = o.f16 ? 'float16' : 'float32';
  const component = (c: string, bytes: number, vaeFp32 = false) => ({
    model: `variants/${name}/${c}/model.onnx`,
    externalData: [],
    dtype: vaeFp32 ? ('float32' as const) : dtype,
    bytes,
    residentBytes: bytes,
    largestInitializerBytes: Math.min(bytes, o.largest),
  });
  const files = ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder'].map((c) => `variants/${name}/${c}/model.onnx`);
  return {
    name,
    root: `variants/${name}`,
    files,
    components: { unet: component('unet', o.unet), text_encoder: component('text_encoder', o.te / 3), text_encoder_2: component('text_encoder_2', (2 * o.te) / 3), vae_decoder: component('vae_decoder', o.vae, true) },
    needs: {
      shaderF16: o.f16,
      largestInitializerBytes: o.largest,
      weightBytes: o.unet + o.te + o.vae,
      downloadBytes: o.unet + o.te + o.vae,
      activations: sdxlTensorSites(sdxlUnet, sdxlVae, { unet: o.f16 ? 2 : 4, vae: 4 }),
      peakMemoryBytes: { side: 1024, resident: 0, sequential: 0 },
    },
  };
}

const VARIANTS = [
  variant('q4f16', { f16: true, unet: 1629 * MB, te: 618 * MB, vae: 198 * MB, largest: 126.5 * MB }),
  variant('q4f32', { f16: false, unet: 1770 * MB, te: 663 * MB, vae: 198 * MB, largest: 253 * MB }),
  variant('q8', { f16: false, unet: 2700 * MB, te: 900 * MB, vae: 198 * MB, largest: 253 * MB }),
  variant('fp16', { f16: true, unet: 5136 * MB, te: 1636 * MB, vae: 99 * MB, largest: 126.5 * MB }),
];

function manifest(over: Partial<ModelManifest> = {}): ModelManifest {
  const files = VARIANTS.flatMap((v) => v.files.map((path) => ({ path, size: Object.values(v.components).find((c) => c.model === path)!.bytes, sha256: path, chunks: [] })));
  return { schema: 2, id: 'sdxl', pipeline: 'StableDiffusionXLPipeline', nativeSide: 1024, vaeScaleFactor: 8, realSize: true, chunkBytes: 16 * MiB, files, variants: VARIANTS, version: 'v1', ...over };
}

const gpu = (over: Partial<AdapterReport> = {}): AdapterReport => ({
  available: true,
  description: 'Test GPU',
  software: false,
  features: ['shader-f16'],
  maxBufferSize: 4 * GiB,
  maxStorageBufferBindingSize: 4 * GiB,
  ...over,
});
const stored = (m: ModelManifest) => Object.fromEntries(m.variants.map((v) => [v.name, v.needs.downloadBytes]));
const device = (over: Partial<DeviceState> = {}): DeviceState => ({
  adapter: gpu(),
  canCache: true,
  storageAvailableBytes: 100e9,
  storedBytes: stored(manifest()),
  failed: {},
  memoryBudgetBytes: 8 * GiB,
  ...over,
});
const noAdapter: AdapterReport = { ...gpu(), available: false, features: [], unavailableReason: 'this browser has no WebGPU' };

describe('SDXL buffer needs', () => {
  const sites = sdxlTensorSites(sdxlUnet, sdxlVae, { unet: 2, vae: 2 });
  it('at 1024x1024 fp16 the largest UNet tensor is the level-1 self-attention: 2 x 10 heads x 4096^2 x 2 bytes', () => {
    const { bytes, site } = largestActivation(sites, 1024, 1024, ['unet']);
    expect(bytes).toBe(2 * 10 * 4096 ** 2 * 2);
    expect(site?.what).toBe('self-attention scores, level 1');
  });

  it('grows with the image: 1344x768 needs less than 1024x1024 (fewer tokens)', () => {
    expect(largestActivation(sites, 1344, 768).bytes).toBeLessThan(largestActivation(sites, 1024, 1024).bytes);
  });

  it('the VAE mid-block attention at 1024x1024 fp32 is 16384^2 x 4 bytes = 1 GiB, which the tiled decode avoids', () => {
    const fp32 = sdxlTensorSites(sdxlUnet, sdxlVae, { unet: 2, vae: 4 });
    expect(largestActivation(fp32, 1024, 1024, ['vae_decoder']).bytes).toBe(GiB);
  });
});

describe('variant choice for a table of devices (Auto, 1024x1024, everything stored)', () => {
  const table: [string, Partial<DeviceState>, string, string][] = [
    ['a GPU with shader-f16 and large buffers', {}, 'device', 'q4f16'],
    ['a GPU without shader-f16', { adapter: gpu({ features: [] }) }, 'device', 'q4f32'],
    ['q4f16 failed here before', { failed: { q4f16: 'it ran out of memory' } }, 'device', 'q4f32'],
    ['q4f16 and q4f32 failed here before', { failed: { q4f16: 'x', q4f32: 'y' } }, 'device', 'q8'],
    ['256 MiB storage bindings (the q4f32 text encoder embedding folds to 253 MB, the UNet attention is 640 MiB)', { adapter: gpu({ maxStorageBufferBindingSize: 256 * MiB }) }, 'server', ''],
    ['a 4 GiB memory budget (q4f16 peaks near 3 GB in sequential residency)', { memoryBudgetBytes: 4 * GiB }, 'device', 'q4f16'],
    ['a 2 GiB memory budget', { memoryBudgetBytes: 2 * GiB }, 'server', ''],
    ['no WebGPU', { adapter: noAdapter }, 'server', ''],
  ];
  it.each(table)('%s -> %s %s', (_what, over, target, chosen) => {
    const decision = decideRoute('auto', device(over), manifest(), 1024, 1024);
    expect(decision.target).toBe(target);
    if (chosen) expect(decision.variant).toBe(chosen);
  });

  it('names the reason for each variant a device cannot run', () => {
    const verdicts = variantVerdicts(manifest(), device({ adapter: gpu({ features: [] }), failed: { q8: 'it ran out of memory' } }), 'webgpu', 1024, 1024);
    expect(verdicts).toEqual([
      { name: 'q4f16', unmet: 'the q4f16 model computes in fp16 and this GPU lacks shader-f16' },
      { name: 'q4f32', unmet: null },
      { name: 'q8', unmet: 'it failed on this device before (it ran out of memory)' },
      { name: 'fp16', unmet: 'the fp16 model computes in fp16 and this GPU lacks shader-f16' },
    ]);
  });

  it('a smaller image fits smaller buffers: 512x512 runs q4f16 with 256 MiB bindings', () => {
    expect(decideRoute('auto', device({ adapter: gpu({ maxStorageBufferBindingSize: 256 * MiB }) }), manifest(), 512, 512)).toMatchObject({ target: 'device', variant: 'q4f16' });
  });

  it('storage too small for a download excludes the variant, naming both sizes', () => {
    const [first] = variantVerdicts(manifest(), device({ storedBytes: {}, storageAvailableBytes: 1e9 }), 'webgpu', 1024, 1024);
    expect(first!.unmet).toBe('the q4f16 model needs 2.4 GB more storage; this browser allows 1.0 GB');
  });
});

describe('software adapters and full-size models', () => {
  const swiftshader = gpu({ description: 'google swiftshader', software: true, features: [] });

  it('recognises SwiftShader, llvmpipe and isFallbackAdapter', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA L4' })).toBe(false);
  });

  it('Auto never runs a full-size model on a software adapter; the user can still force it', () => {
    const auto = decideRoute('auto', device({ adapter: swiftshader }), manifest(), 512, 512);
    expect(auto.target).toBe('server');
    expect(auto.reason).toMatch(/software renderer on the CPU, where a full-size model takes hours per image/);
    expect(decideRoute('device', device({ adapter: swiftshader }), manifest(), 512, 512)).toMatchObject({ target: 'device', executionProvider: 'webgpu', variant: 'q4f32' });
  });

  it('a small model still runs on a software adapter', () => {
    expect(decideRoute('auto', device({ adapter: swiftshader }), manifest({ realSize: false }), 512, 512)).toMatchObject({ target: 'device', variant: 'q4f32' });
  });
});

describe('downloads', () => {
  it('while a full-size model downloads, Auto sends images to the server and downloads in the background', () => {
    const m = manifest();
    const half = { q4f16: m.variants[0]!.needs.downloadBytes / 2 };
    const decision = decideRoute('auto', device({ storedBytes: half }), m, 1024, 1024);
    expect(decision).toMatchObject({ target: 'server', variant: 'q4f16', download: 'background' });
    expect(decision.reason).toBe('Server, while this device downloads the q4f16 model (50% of 2.4 GB); images are made here once it is verified');
  });

  it('once the download is verified, Auto switches to this device', () => {
    expect(decideRoute('auto', device(), manifest(), 1024, 1024)).toMatchObject({ target: 'device', variant: 'q4f16' });
    expect(decideRoute('auto', device(), manifest(), 1024, 1024).download).toBeUndefined();
  });

  it('a window that cannot keep files (private) does not start a multi-gigabyte background download', () => {
    const decision = decideRoute('auto', device({ storedBytes: {}, canCache: false }), manifest(), 1024, 1024);
    expect(decision.target).toBe('server');
    expect(decision.download).toBeUndefined();
  });

  it('a small model downloads before the first image, on this device', () => {
    expect(decideRoute('auto', device({ storedBytes: {} }), manifest({ realSize: false }), 1024, 1024)).toMatchObject({ target: 'device', variant: 'q4f16', download: 'now' });
  });
});

describe('overrides and memory', () => {
  it('Server always; This device runs WASM without an adapter, preferring a variant that computes in fp32', () => {
    expect(decideRoute('server', device(), manifest(), 1024, 1024)).toMatchObject({ target: 'server' });
    expect(decideRoute('device', device({ adapter: noAdapter }), manifest(), 256, 256)).toMatchObject({ target: 'device', executionProvider: 'wasm', variant: 'q4f32' });
  });

  it('the peak estimate: sequential residency holds the UNet plus the larger of the text encoders and the VAE', () => {
    const q4f16 = VARIANTS[0]!;
    const resident = estimatePeakBytes(q4f16, 1024, 1024, 'resident');
    const sequential = estimatePeakBytes(q4f16, 1024, 1024, 'sequential', 512 * MiB);
    expect(sequential).toBeLessThan(resident);
    expect(sequential).toBeGreaterThan(1629 * MB);
  });

  it('a device with memory to spare keeps every session; a tight one goes sequential', () => {
    expect(decideRoute('auto', device({ memoryBudgetBytes: 16 * GiB }), manifest(), 1024, 1024).residency).toBe('resident');
    expect(decideRoute('auto', device({ memoryBudgetBytes: 4 * GiB }), manifest(), 1024, 1024).residency).toBe('sequential');
  });
});
