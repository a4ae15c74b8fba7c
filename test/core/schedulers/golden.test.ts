/**
 * Full-loop values of diffusers' own scheduler tests, reproduced (huggingface/diffusers
 * tests/schedulers/test_scheduler_{euler,euler_ancestral,dpm_multi,ddim,lcm}.py: `test_full_loop_*`, with the
 * dummy model `sample * t / (t + 1)` on the deterministic 4x3x8x8 sample). The tolerances are diffusers'.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { schedulerFromConfig, type SchedulerConfig } from '../../../src/core/schedulers/index.ts';
import { DDIMScheduler } from '../../../src/core/schedulers/ddim.ts';
import { fullLoop } from './harness.ts';

const measured: string[] = [];
afterAll(() => console.log(`largest differences from diffusers' reference values:\n${measured.join('\n')}`));

function check(name: string, got: { sum: number; mean: number }, want: { sum?: number; mean: number }, tol = { sum: 1e-2, mean: 1e-3 }) {
  const dSum = want.sum === undefined ? undefined : Math.abs(got.sum - want.sum);
  const dMean = Math.abs(got.mean - want.mean);
  measured.push(`  ${name.padEnd(44)} sum ${got.sum.toFixed(4)}${want.sum === undefined ? '' : ` (ref ${want.sum}, diff ${dSum!.toExponential(2)})`}, mean ${got.mean.toPrecision(6)} (ref ${want.mean}, diff ${dMean.toExponential(2)})`);
  if (dSum !== undefined) expect(dSum, `${name} sum ${got.sum}`).toBeLessThan(tol.sum);
  expect(dMean, `${name} mean ${got.mean}`).toBeLessThan(tol.mean);
}

// EulerDiscreteSchedulerTest / EulerAncestralDiscreteSchedulerTest.get_scheduler_config
const euler: SchedulerConfig = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

describe('EulerDiscreteScheduler (test_scheduler_euler.py)', () => {
  const run = (config: Partial<SchedulerConfig>, tStart?: number) =>
    fullLoop(schedulerFromConfig({ ...euler, ...config }, 'EulerDiscreteScheduler'), { steps: 10, initSigma: true, scaleInput: true, tStart });
  it('test_full_loop_no_noise', () => check('euler no noise', run({}), { sum: 10.0807, mean: 0.0131 }));
  it('test_full_loop_with_v_prediction', () => check('euler v_prediction', run({ prediction_type: 'v_prediction' }), { sum: 0.0002, mean: 2.2676e-6 }));
  it('test_full_loop_device_karras_sigmas', () => check('euler karras', run({ use_karras_sigmas: true }), { sum: 124.52299499511719, mean: 0.16213932633399963 }));
  it('test_full_loop_with_noise (t_start 8)', () => check('euler with noise', run({}, 8), { sum: 57062.9297, mean: 74.3007 }));
});

describe('EulerAncestralDiscreteScheduler (test_scheduler_euler_ancestral.py)', () => {
  const run = (config: Partial<SchedulerConfig>) => fullLoop(schedulerFromConfig({ ...euler, ...config }, 'EulerAncestralDiscreteScheduler'), { steps: 10, initSigma: true, scaleInput: true });
  it('test_full_loop_no_noise (noise from torch.manual_seed(0))', () => check('euler_a no noise', run({}), { sum: 152.3192, mean: 0.1983 }));
  it('test_full_loop_with_v_prediction', () => check('euler_a v_prediction', run({ prediction_type: 'v_prediction' }), { sum: 108.4439, mean: 0.1412 }));
});

// DPMSolverMultistepSchedulerTest.get_scheduler_config
const dpm: SchedulerConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  lambda_min_clipped: -Infinity,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
};

describe('DPMSolverMultistepScheduler (test_scheduler_dpm_multi.py)', () => {
  const run = (config: Partial<SchedulerConfig>, tStart?: number) =>
    fullLoop(schedulerFromConfig({ ...dpm, ...config }, 'DPMSolverMultistepScheduler'), { steps: 10, initSigma: false, scaleInput: false, tStart });
  it('test_full_loop_no_noise', () => check('dpm++ 2m no noise', run({}), { mean: 0.3301 }));
  it('test_full_loop_with_noise (t_start 5)', () => check('dpm++ 2m with noise', run({}, 5), { sum: 318.4111, mean: 0.4146 }));
  it('test_full_loop_with_v_prediction', () => check('dpm++ 2m v_prediction', run({ prediction_type: 'v_prediction' }), { mean: 0.2251 }));
  it('test_full_loop_with_karras_and_v_prediction', () => check('dpm++ 2m karras v_prediction', run({ prediction_type: 'v_prediction', use_karras_sigmas: true }), { mean: 0.2096 }));
});

// DDIMSchedulerTest.get_scheduler_config
const ddim: SchedulerConfig = { num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true };

describe('DDIMScheduler (test_scheduler_ddim.py)', () => {
  const run = (config: Partial<SchedulerConfig>, tStart?: number) =>
    fullLoop(schedulerFromConfig({ ...ddim, ...config }, 'DDIMScheduler'), { steps: 10, initSigma: false, scaleInput: false, tStart });
  it('test_full_loop_no_noise', () => check('ddim no noise', run({}), { sum: 172.0067, mean: 0.223967 }));
  it('test_full_loop_with_v_prediction', () => check('ddim v_prediction', run({ prediction_type: 'v_prediction' }), { sum: 52.5302, mean: 0.0684 }));
  it('test_full_loop_with_set_alpha_to_one', () => check('ddim set_alpha_to_one', run({ set_alpha_to_one: true, beta_start: 0.01 }), { sum: 149.8295, mean: 0.1951 }));
  it('test_full_loop_with_no_set_alpha_to_one', () => check('ddim no set_alpha_to_one', run({ set_alpha_to_one: false, beta_start: 0.01 }), { sum: 149.0784, mean: 0.1941 }));
  it('test_full_loop_with_noise (t_start 8)', () => check('ddim with noise', run({}, 8), { sum: 354.5418, mean: 0.4616 }));
  it('test_variance and test_steps_offset', () => {
    const s = new DDIMScheduler(ddim);
    for (const [t, prev, want] of [[0, 0, 0], [420, 400, 0.14771], [980, 960, 0.3246], [487, 486, 0.00979], [999, 998, 0.02]] as const) {
      expect(Math.abs(s.variance(t, prev) - want)).toBeLessThan(1e-5);
    }
    const offset = schedulerFromConfig({ ...ddim, steps_offset: 1 }, 'DDIMScheduler');
    offset.setTimesteps(5);
    expect(Array.from(offset.timesteps)).toEqual([801, 601, 401, 201, 1]);
  });
});

// LCMSchedulerTest.get_scheduler_config
const lcm: SchedulerConfig = { num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };

describe('LCMScheduler (test_scheduler_lcm.py)', () => {
  const run = (steps: number) => fullLoop(schedulerFromConfig(lcm, 'LCMScheduler'), { steps, initSigma: false, scaleInput: false });
  it('test_full_loop_onestep', () => check('lcm one step', run(1), { sum: 18.7097, mean: 0.0244 }, { sum: 1e-3, mean: 1e-3 }));
  it('test_full_loop_multistep (noise from torch.manual_seed(0))', () => check('lcm 10 steps', run(10), { sum: 197.7616, mean: 0.2575 }, { sum: 1e-3, mean: 1e-3 }));
});
