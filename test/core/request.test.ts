import { describe, expect, it } from 'vitest';
import { AD_CASES, sizeForAspectRatio } from '../../src/core/product/index.ts';
import { parseGenerateRequest, RequestValidationError } from '../../src/core/request.ts';

const valid = { prompt: AD_CASES[0]!.prompt, width: 1152, height: 896, seed: 1000 };

function issuesOf(input: unknown): Record<string, string> {
  try {
    parseGenerateRequest(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RequestValidationError);
    return Object.fromEntries((error as RequestValidationError).issues.map((i) => [i.field, i.message]));
  }
  throw new Error('expected a RequestValidationError');
}

describe('parseGenerateRequest', () => {
  it('fills diffusers defaults and keeps the prompt as typed', () => {
    expect(parseGenerateRequest({ ...valid, prompt: '  갓 구운 크루아상 ' })).toEqual({
      ...valid,
      prompt: '  갓 구운 크루아상 ',
      negative_prompt: '',
      num_inference_steps: 40,
      guidance_scale: 7.5,
      guidance_rescale: 0,
    });
  });

  it('names each bad field with its limit and the value received', () => {
    const issues = issuesOf({ prompt: '', width: 1000 + 3, height: 4096, seed: -1, num_inference_steps: 0, guidance_scale: 31 });
    expect(issues['prompt']).toMatch(/fewer than 1 characters/);
    expect(issues['width']).toBe('must be multiple of 8 (got 1003)');
    expect(issues['height']).toBe('must be <= 2048 (got 4096)');
    expect(issues['seed']).toBe('must be >= 0 (got -1)');
    expect(issues['num_inference_steps']).toBe('must be >= 1 (got 0)');
    expect(issues['guidance_scale']).toBe('must be <= 30 (got 31)');
  });

  it('rejects whitespace-only prompts, unknown fields, wrong types and non-objects', () => {
    expect(issuesOf({ ...valid, prompt: '   ' })['prompt']).toMatch(/whitespace/);
    expect(issuesOf({ ...valid, steps: 4 })['(body)']).toBe('unknown field(s) steps');
    expect(issuesOf({ ...valid, seed: '1000' })['seed']).toMatch(/integer/);
    expect(issuesOf({ prompt: 'a', seed: 1 })).toEqual({ width: 'is required', height: 'is required' });
    expect(issuesOf([valid])['(body)']).toBe('must be a JSON object');
    expect(issuesOf({ ...valid, model: '../etc' })['model']).toMatch(/pattern/);
    expect(issuesOf({ ...valid, scheduler: 'heun' })['scheduler']).toBe('must be one of euler, euler_karras, euler_a, dpmpp_2m, dpmpp_2m_karras, ddim, lcm, sdxl_turbo (got "heun")');
    expect(issuesOf({ ...valid, strength: 0 })['strength']).toBe('must be > 0 (got 0)');
    expect(issuesOf({ ...valid, guidance_rescale: 1.5 })['guidance_rescale']).toBe('must be <= 1 (got 1.5)');
    expect(issuesOf({ ...valid, original_size: [1024] })['original_size']).toMatch(/fewer than 2 items/);
    expect(issuesOf({ ...valid, crops_coords_top_left: [0, -8] })['crops_coords_top_left.1']).toBe('must be >= 0 (got -8)');
  });
});

describe('sizeForAspectRatio', () => {
  it('gives the SDXL sizes of ad-cases.json at 1024 and scales them for smaller models', () => {
    expect(sizeForAspectRatio('4:3', 1024)).toEqual({ width: 1152, height: 896 });
    expect(sizeForAspectRatio('9:16', 1024)).toEqual({ width: 768, height: 1344 });
    expect(sizeForAspectRatio('1:1', 64)).toEqual({ width: 64, height: 64 });
    expect(sizeForAspectRatio('4:3', 64)).toEqual({ width: 72, height: 56 });
    expect(() => sizeForAspectRatio('2:1', 1024)).toThrow(/aspect_ratio must be one of/);
  });
});
