import { isSoftwareAdapter, type AdapterReport } from '../core/capabilities.ts';

/**
 * Asks the browser for a WebGPU adapter and reports what the capability check needs: features
 * (`shader-f16`), the buffer limits, and whether it is a software rasteriser. Never throws: a missing API or
 * adapter is a report with `available: false` and the reason.
 */
export async function probeAdapter(): Promise<AdapterReport> {
  const none = (unavailableReason: string): AdapterReport => ({
    available: false,
    unavailableReason,
    description: 'no WebGPU',
    software: false,
    features: [],
    maxBufferSize: 0,
    maxStorageBufferBindingSize: 0,
  });
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return none('this browser has no WebGPU');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return none(`requestAdapter failed: ${(error as Error).message}`);
  }
  if (!adapter) return none('no suitable GPU adapter');
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = [info?.vendor, info?.architecture, info?.description || info?.device].filter(Boolean).join(' ') || 'WebGPU adapter';
  return {
    available: true,
    description,
    software: isSoftwareAdapter(info ?? {}),
    features: [...adapter.features].sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}
