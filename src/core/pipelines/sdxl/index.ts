/** SDXL text-to-image: load a package, then generate. */
export { loadSdxlPipeline, loadClipTokenizer, type SdxlPipeline } from './load.ts';
export { generate, generateRgba, applyGuidance, rescaleNoiseCfg, type GenerateOptions, type GenerateRgbaOutput } from './generate.ts';
export { prepareReferenceImage, strengthTimesteps, imageToLatents } from './img2img.ts';
export { DEFAULT_STRENGTH } from '../../request.ts';
export { encodePrompt, type PromptEmbeds } from './encodePrompt.ts';
export { getAddTimeIds, prepareLatents } from './conditioning.ts';
export { SDXL_CONTRACT, ModelContractError, checkSessionContract, checkFeeds } from './contract.ts';
export { decodeLatents, tiledDecode, vaeTileFor, NonFiniteImageError, allFinite } from './vaeDecode.ts';
