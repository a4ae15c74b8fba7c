/**
 * Schedulers, driven from `scheduler_config.json` (`_class_name` picks the class) or by name.
 * The one module to import them from, inside or outside the pipeline.
 */
import { SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { EulerDiscreteScheduler } from './eulerDiscrete.ts';
import type { Scheduler } from './types.ts';

export { EulerDiscreteScheduler } from './eulerDiscrete.ts';
export { SchedulerConfigError, type SchedulerConfig } from './config.ts';
export type { Scheduler, SchedulerStepOutput } from './types.ts';

const factories: Record<string, (config: SchedulerConfig) => Scheduler> = {
  EulerDiscreteScheduler: (config) => new EulerDiscreteScheduler(config),
};

/** Class names `schedulerFromConfig` accepts. */
export const schedulerNames = Object.keys(factories);

/**
 * Builds the scheduler named by `config._class_name` (or `name` when given, keeping the rest of the config,
 * as diffusers' `Scheduler.from_config(pipe.scheduler.config)`).
 * @throws SchedulerConfigError for an unknown class or an unsupported option.
 */
export function schedulerFromConfig(config: SchedulerConfig, name?: string): Scheduler {
  const className = name ?? config._class_name ?? 'EulerDiscreteScheduler';
  const factory = factories[className];
  if (!factory) throw new SchedulerConfigError('_class_name', `"${className}" is not supported (use ${schedulerNames.join(', ')})`);
  return factory({ ...config, _class_name: className });
}
