import { EngineError } from '../errors.ts';
import type { RgbaImage } from './rgba.ts';

/** `EngineError('invalid_request', 'field: message', [{ field, message }])`, as request validation words it. */
export function invalid(field: string, message: string): EngineError {
  return new EngineError('invalid_request', `${field}: ${message}`, [{ field, message }]);
}

export const describe = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value));

/** @throws EngineError invalid_request naming `field` when the image is not `width x height` RGBA bytes. */
export function checkImage(image: RgbaImage, field = 'image'): void {
  const { width, height, data } = image ?? ({} as Partial<RgbaImage>);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! < 1 || height! < 1) {
    throw invalid(field, `must have a positive integer width and height in pixels (got ${describe(width)}x${describe(height)})`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width! * height! * 4) {
    throw invalid(field, `must have width * height * 4 = ${width! * height! * 4} bytes of RGBA (got ${data instanceof Uint8Array ? data.length : typeof data})`);
  }
}
