/**
 * `scheduler/scheduler_config.json` as diffusers writes it (snake_case keys, as in the file).
 * Unknown keys are kept and ignored; each scheduler reads the keys it understands and checks enumerated
 * values when it is built (see `pick`), so the types here are as loose as the JSON.
 */
export interface SchedulerConfig {
  _class_name?: string;
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: string;
  trained_betas?: number[] | null;
  prediction_type?: string;
  timestep_spacing?: string;
  steps_offset?: number;
  interpolation_type?: string;
  use_karras_sigmas?: boolean;
  final_sigmas_type?: string;
  rescale_betas_zero_snr?: boolean;
  sigma_min?: number | null;
  sigma_max?: number | null;
  [key: string]: unknown;
}

/** Thrown for a scheduler config the core cannot honour; names the key and the accepted values. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
  readonly code = 'model_package';
  constructor(readonly key: string, message: string) {
    super(`scheduler_config.json ${key}: ${message}`);
  }
}

/** Reads an enumerated key, falling back to the diffusers default. @throws SchedulerConfigError */
export function pick<T extends string>(config: SchedulerConfig, key: string, allowed: readonly T[], fallback: T): T {
  const value = config[key] ?? fallback;
  if (!allowed.includes(value as T)) {
    throw new SchedulerConfigError(key, `"${String(value)}" is not supported (use ${allowed.join(', ')})`);
  }
  return value as T;
}
