/**
 * Schedulers, driven from `scheduler_config.json` (`_class_name` picks the class) or chosen by the user by
 * sampler name. The one module to import them from, inside or outside the pipeline.
 */
import { SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { DDIMScheduler, type DdimOptions } from './ddim.ts';
import { DPMSolverMultistepScheduler } from './dpmSolverMultistep.ts';
import { EulerAncestralDiscreteScheduler } from './eulerAncestralDiscrete.ts';
import { EulerDiscreteScheduler } from './eulerDiscrete.ts';
import { LCMScheduler } from './lcm.ts';
import type { Scheduler } from './types.ts';

export { DDIMScheduler } from './ddim.ts';
export { DPMSolverMultistepScheduler } from './dpmSolverMultistep.ts';
export { EulerAncestralDiscreteScheduler } from './eulerAncestralDiscrete.ts';
export { EulerDiscreteScheduler } from './eulerDiscrete.ts';
export { LCMScheduler } from './lcm.ts';
export { linspaceF32, noiseSchedule, type CpuProfile } from './betas.ts';
export { SchedulerConfigError, type SchedulerConfig } from './config.ts';
export type { Scheduler, SchedulerOptions, SchedulerStepOutput } from './types.ts';

const factories: Record<string, (config: SchedulerConfig, options: DdimOptions) => Scheduler> = {
  EulerDiscreteScheduler: (c, o) => new EulerDiscreteScheduler(c, o),
  EulerAncestralDiscreteScheduler: (c, o) => new EulerAncestralDiscreteScheduler(c, o),
  DPMSolverMultistepScheduler: (c, o) => new DPMSolverMultistepScheduler(c, o),
  DDIMScheduler: (c, o) => new DDIMScheduler(c, o),
  LCMScheduler: (c, o) => new LCMScheduler(c, o),
};

/** Class names `schedulerFromConfig` accepts. */
export const schedulerClassNames = Object.keys(factories);

/**
 * Builds the scheduler named by `config._class_name`, or the class `className` with the rest of the config,
 * as diffusers' `SchedulerClass.from_config(pipe.scheduler.config)` (keys a class does not know are ignored).
 * @throws SchedulerConfigError for an unknown class or an unsupported option.
 */
export function schedulerFromConfig(config: SchedulerConfig, className?: string, options: DdimOptions = {}): Scheduler {
  const name = className ?? config._class_name ?? 'EulerDiscreteScheduler';
  const factory = factories[name];
  if (!factory) throw new SchedulerConfigError('_class_name', `"${name}" is not supported (use ${schedulerClassNames.join(', ')})`);
  return factory({ ...config, _class_name: name }, options);
}

/** A sampler the user can pick: a scheduler class plus config overrides, under the name UIs use. */
export interface SamplerPreset {
  label: string;
  className: string;
  overrides: Partial<SchedulerConfig>;
  /** Settings the preset is meant for (the UI applies them when the preset is chosen). */
  recommended?: { num_inference_steps: number; guidance_scale: number };
}

/** The samplers offered to users; `default` keeps the model's own `scheduler_config.json`. */
export const SAMPLERS = {
  euler: { label: 'Euler', className: 'EulerDiscreteScheduler', overrides: { use_karras_sigmas: false } },
  euler_karras: { label: 'Euler Karras', className: 'EulerDiscreteScheduler', overrides: { use_karras_sigmas: true } },
  euler_a: { label: 'Euler a', className: 'EulerAncestralDiscreteScheduler', overrides: {} },
  dpmpp_2m: { label: 'DPM++ 2M', className: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: false } },
  dpmpp_2m_karras: { label: 'DPM++ 2M Karras', className: 'DPMSolverMultistepScheduler', overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true } },
  ddim: { label: 'DDIM', className: 'DDIMScheduler', overrides: {} },
  lcm: { label: 'LCM', className: 'LCMScheduler', overrides: {}, recommended: { num_inference_steps: 4, guidance_scale: 1 } },
  // SDXL-Turbo's set-up (stabilityai/sdxl-turbo scheduler_config.json): Euler ancestral, trailing spacing, 1-4 steps, no guidance
  sdxl_turbo: {
    label: 'SDXL-Turbo',
    className: 'EulerAncestralDiscreteScheduler',
    overrides: { timestep_spacing: 'trailing' },
    recommended: { num_inference_steps: 4, guidance_scale: 0 },
  },
} as const satisfies Record<string, SamplerPreset>;

export type SamplerName = keyof typeof SAMPLERS;
export const SAMPLER_NAMES = Object.keys(SAMPLERS) as SamplerName[];

/**
 * The scheduler for a request: the model's own config, or a named sampler applied over it.
 * @throws SchedulerConfigError for an unsupported option.
 */
export function schedulerForSampler(modelConfig: SchedulerConfig, sampler?: SamplerName, options: DdimOptions = {}): Scheduler {
  if (!sampler) return schedulerFromConfig(modelConfig, undefined, options);
  const preset: SamplerPreset = SAMPLERS[sampler];
  return schedulerFromConfig({ ...modelConfig, ...preset.overrides }, preset.className, options);
}
