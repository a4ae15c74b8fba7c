import { describe, expect, it } from 'vitest';
import { describeError, EngineError } from '../../src/core/errors.ts';
import { ModelFileMissingError } from '../../src/core/loading/fileStore.ts';
import { ModelContractError, NonFiniteImageError } from '../../src/core/pipelines/sdxl/index.ts';
import { RequestValidationError } from '../../src/core/request.ts';
import { GenerationCancelledError } from '../../src/core/types.ts';
import { onnxruntimeStatus, ortFailureCode } from '../../src/worker/ortWebRuntime.ts';

describe('error codes travel with the error, set where it is thrown', () => {
  it('each error class of the core carries its code, also across a JSON boundary', () => {
    expect(describeError(new RequestValidationError([{ field: 'width', message: 'too big' }]))).toMatchObject({ code: 'invalid_request', issues: [{ field: 'width' }] });
    expect(describeError(new ModelFileMissingError('unet/model.onnx'))).toMatchObject({ code: 'model_package' });
    expect(describeError(new ModelContractError('unet: input "sample" is missing'))).toMatchObject({ code: 'model_package' });
    expect(describeError(new NonFiniteImageError('VAE'))).toMatchObject({ code: 'non_finite_image' });
    expect(describeError(new GenerationCancelledError())).toMatchObject({ code: 'cancelled' });
    const crossed = JSON.parse(JSON.stringify(describeError(new EngineError('out_of_memory', 'creating the unet session: ...'))));
    expect(describeError(EngineError.from(crossed))).toEqual({ code: 'out_of_memory', message: 'creating the unet session: ...' });
  });

  it('a programming error is internal whatever its message says', () => {
    expect(describeError(new TypeError("Cannot read properties of undefined (reading 'session')")).code).toBe('internal');
    expect(describeError(new Error('out of memory while creating the WebGPU session')).code).toBe('internal');
    expect(describeError(Object.assign(new Error('no such file'), { code: 'ENOENT' })).code).toBe('internal');
    expect(describeError('a string').code).toBe('internal');
  });

  it("onnxruntime failures are coded where they are caught, from onnxruntime's status code and the error's type", () => {
    const ort = (status: number) => new Error(`Can't create a session. ERROR_CODE: ${status}, ERROR_MESSAGE: whatever it says`);
    expect(onnxruntimeStatus(ort(9))).toBe(9);
    expect(ortFailureCode(ort(9), null, false)).toBe('unsupported_operator');
    expect(ortFailureCode(ort(7), null, false)).toBe('model_package');
    expect(ortFailureCode(ort(1), null, false)).toBe('session_error');
    expect(ortFailureCode(new RangeError('Array buffer allocation failed'), null, false)).toBe('out_of_memory');
    expect(ortFailureCode(ort(1), null, true)).toBe('device_lost');
  });
});
