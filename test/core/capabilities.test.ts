import { describe, expect, it } from 'vitest';
import { decideRoute, largestActivation, sdxlTensorSites, type AdapterReport } from '../../src/core/capabilities.ts';
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
const gpu = (over: Partial<AdapterReport> = {}): AdapterReport => ({
  available: true,
  description: 'Test GPU',
  features: ['shader-f16'],
  maxBufferSize: 4 * GiB,
  maxStorageBufferBindingSize: 4 * GiB,
  ...over,
});
const fp16 = { dtypes: { text_encoder: 'float16', text_encoder_2: 'float16', unet: 'float16', vae_decoder: 'float16' } as const, largestWeightBytes: 131_153_920 };
const manifest = { ...fp16, activations: sdxlTensorSites(sdxlUnet, sdxlVae, { unet: 2, vae: 2 }) };

describe('SDXL buffer needs', () => {
  it('at 1024x1024 fp16 the largest tensor is the UNet level-1 self-attention: 2 x 10 heads x 4096^2 x 2 bytes', () => {
    const { bytes, site } = largestActivation(manifest.activations, 1024, 1024);
    expect(bytes).toBe(2 * 10 * 4096 ** 2 * 2);
    expect(site?.what).toBe('self-attention scores, level 1');
  });

  it('grows with the image: 1344x768 needs less than 1024x1024 (fewer tokens)', () => {
    expect(largestActivation(manifest.activations, 1344, 768).bytes).toBeLessThan(largestActivation(manifest.activations, 1024, 1024).bytes);
  });
});

describe('decideRoute', () => {
  it('Auto uses this device when the adapter meets the needs', () => {
    expect(decideRoute('auto', gpu(), manifest, 1024, 1024)).toMatchObject({ target: 'device', executionProvider: 'webgpu' });
  });

  it('Auto sends the request to the server without an adapter, without shader-f16 for fp16, or with small buffers', () => {
    const none: AdapterReport = { ...gpu(), available: false, unavailableReason: 'this browser has no WebGPU' };
    expect(decideRoute('auto', none, manifest, 1024, 1024)).toMatchObject({ target: 'server', reason: 'Server: no WebGPU adapter (this browser has no WebGPU)' });
    expect(decideRoute('auto', gpu({ features: [] }), manifest, 1024, 1024).reason).toMatch(/fp16 .* lacks shader-f16/);
    const small = decideRoute('auto', gpu({ maxStorageBufferBindingSize: 128 * 1024 ** 2 }), manifest, 1024, 1024);
    expect(small.target).toBe('server');
    expect(small.reason).toBe('Server: unet self-attention scores, level 1 needs a 640 MiB buffer at 1024x1024; this GPU allows 128 MiB (maxBufferSize 4096 MiB, maxStorageBufferBindingSize 128 MiB)');
  });

  it('honours the override: Server always, This device even when weak (WASM without an adapter)', () => {
    expect(decideRoute('server', gpu(), manifest, 1024, 1024)).toMatchObject({ target: 'server' });
    const none: AdapterReport = { ...gpu(), available: false, unavailableReason: 'no suitable GPU adapter' };
    expect(decideRoute('device', none, manifest, 1024, 1024)).toMatchObject({ target: 'device', executionProvider: 'wasm' });
    expect(decideRoute('device', gpu({ features: [] }), manifest, 1024, 1024)).toMatchObject({ target: 'device', executionProvider: 'webgpu' });
  });
});
