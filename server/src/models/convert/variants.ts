/**
 * The browser variants of an SDXL package, and how each component of a package is converted for one.
 *
 * | variant | activations | MatMul weights       | Conv weights | other weights | needs        |
 * | fp32    | float32     | float32              | float32      | float32       | -            |
 * | fp16    | float16     | float16              | float16      | float16       | shader-f16   |
 * | q4f16   | float16     | 4-bit MatMulNBits    | int8         | float16       | shader-f16   |
 * | q4f32   | float32     | 4-bit MatMulNBits    | int8         | float16       | -            |
 * | q8      | float32     | 8-bit MatMulNBits    | int8         | float16       | -            |
 *
 * The VAE is never quantized; it computes in float32 when its config has `force_upcast` (the SDXL VAE
 * overflows in fp16) unless it is an fp16-fix VAE (`force_upcast: false`), storing its weights as the
 * variant's other weights.
 */
import type { ComponentPlan, FloatType } from './convertGraph.ts';

export const VARIANT_NAMES = ['fp32', 'fp16', 'q4f16', 'q4f32', 'q8'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

interface VariantSpec {
  compute: FloatType;
  weightStorage: FloatType;
  matmulBits?: 4 | 8;
  convInt8: boolean;
}

export const VARIANTS: Record<VariantName, VariantSpec> = {
  fp32: { compute: 'float32', weightStorage: 'float32', convInt8: false },
  fp16: { compute: 'float16', weightStorage: 'float16', convInt8: false },
  q4f16: { compute: 'float16', weightStorage: 'float16', matmulBits: 4, convInt8: true },
  q4f32: { compute: 'float32', weightStorage: 'float16', matmulBits: 4, convInt8: true },
  q8: { compute: 'float32', weightStorage: 'float16', matmulBits: 8, convInt8: true },
};

/** @throws RangeError naming the allowed variants. */
export function variantName(name: string): VariantName {
  if (!(VARIANT_NAMES as readonly string[]).includes(name)) throw new RangeError(`--variant must be one of ${VARIANT_NAMES.join(', ')}, got "${name}"`);
  return name as VariantName;
}

/** GroupNorm (InstanceNormalization over a whole feature map) stays float32 in fp16 components. */
const FP16_FP32_OPS = ['InstanceNormalization'];

/**
 * The conversion plan of `component` for `variant`, and the element type of its float inputs and outputs.
 * @param forceUpcast the VAE config's `force_upcast`.
 */
export function componentPlan(variant: VariantName, component: string, forceUpcast: boolean): { plan: ComponentPlan; floatIo: FloatType } {
  const spec = VARIANTS[variant];
  const isVae = component.startsWith('vae');
  const compute: FloatType = isVae && forceUpcast ? 'float32' : spec.compute;
  const plan: ComponentPlan = {
    compute,
    weightStorage: spec.weightStorage,
    matmulBits: isVae ? undefined : spec.matmulBits,
    convInt8: !isVae && spec.convInt8,
    fp32Ops: compute === 'float16' ? FP16_FP32_OPS : [],
  };
  return { plan, floatIo: compute };
}
