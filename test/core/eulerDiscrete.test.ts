import { describe, expect, it } from 'vitest';
import { EulerDiscreteScheduler, schedulerFromConfig, SchedulerConfigError } from '../../src/core/schedulers/index.ts';
import { float32 } from '../../src/core/tensor.ts';

// stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json
const sdxl = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  steps_offset: 1,
  timestep_spacing: 'leading',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
};

describe('EulerDiscreteScheduler with the SDXL base config', () => {
  it('leading spacing with steps_offset 1: 4 steps are 751, 501, 251, 1', () => {
    const s = schedulerFromConfig(sdxl);
    s.setTimesteps(4);
    expect(Array.from(s.timesteps)).toEqual([751, 501, 251, 1]);
    expect(s.sigmas).toHaveLength(5);
    expect(s.sigmas[4]).toBe(0);
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(s.sigmas[0]! ** 2 + 1), 5);
  });

  it('sigmas decrease, and the train sigma at t=999 is about 14.61 (the SDXL max sigma)', () => {
    const s = new EulerDiscreteScheduler({ ...sdxl, timestep_spacing: 'linspace' });
    s.setTimesteps(1000);
    expect(s.sigmas[0]).toBeCloseTo(14.6146, 3);
    for (let i = 1; i < s.sigmas.length; i++) expect(s.sigmas[i]!).toBeLessThan(s.sigmas[i - 1]!);
  });

  it('an epsilon step moves x by eps * (sigma_next - sigma)', () => {
    const s = schedulerFromConfig(sdxl);
    s.setTimesteps(4);
    const x = float32(Float32Array.from([1, -2]), [1, 2]);
    const eps = float32(Float32Array.from([0.5, 0.25]), [1, 2]);
    const { prevSample, predOriginalSample } = s.step(eps, s.timesteps[0]!, x);
    const dt = s.sigmas[1]! - s.sigmas[0]!;
    expect(prevSample.data[0]).toBeCloseTo(1 + 0.5 * dt, 4);
    expect(prevSample.data[1]).toBeCloseTo(-2 + 0.25 * dt, 4);
    expect(predOriginalSample.data[0]).toBeCloseTo(1 - s.sigmas[0]! * 0.5, 4);
  });

  it('names the key of an unsupported config value', () => {
    expect(() => schedulerFromConfig({ ...sdxl, beta_schedule: 'quadratic' })).toThrow(SchedulerConfigError);
    expect(() => schedulerFromConfig({ ...sdxl, _class_name: 'PNDMScheduler' })).toThrow(/_class_name: "PNDMScheduler" is not supported/);
  });
});
