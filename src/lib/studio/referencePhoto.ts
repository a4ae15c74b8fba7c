/**
 * The reference photo for image-to-image, prepared in the browser and kept in IndexedDB so it survives a
 * reload like the rest of the form. PNG and JPEG files within the request limits are sent as they are (the
 * pipeline decodes them identically on this device and on the server); anything else (WebP, HEIC, GIF, or a
 * photo over the limits) is redrawn once, fitted in 2048 pixels, as JPEG.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { IMAGE_LIMITS, sniffImageType } from '../../core/image/decode.ts';

export interface ReferencePhoto {
  name: string;
  type: 'image/png' | 'image/jpeg';
  bytes: ArrayBuffer;
  width: number;
  height: number;
}

let store: UseStore | undefined;
const db = () => (store ??= createStore('ad-studio-drafts', 'files'));
const KEY = 'reference-photo';

const LONG_SIDE = 2048;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The photo as the request's `image` data URL. */
export function photoDataUrl(photo: ReferencePhoto): string {
  return `data:${photo.type};base64,${toBase64(new Uint8Array(photo.bytes))}`;
}

/**
 * Reads a file the user picked.
 * @throws Error with a message for the user when the browser cannot decode it.
 */
export async function preparePhoto(file: File): Promise<ReferencePhoto> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: file.type }), { imageOrientation: 'from-image' });
  } catch {
    throw new Error(`${file.name} is not a picture this browser can read`);
  }
  const { width, height } = bitmap;
  const type = sniffImageType(bytes);
  const withinLimits = bytes.length <= IMAGE_LIMITS.maxBytes && width * height <= IMAGE_LIMITS.maxPixels && Math.max(width, height) <= IMAGE_LIMITS.maxSide;
  if (type && withinLimits) {
    bitmap.close();
    return { name: file.name, type, bytes: bytes.slice().buffer, width, height };
  }
  const scale = Math.min(1, LONG_SIDE / Math.max(width, height));
  const canvas = new OffscreenCanvas(Math.round(width * scale), Math.round(height * scale));
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  return { name: file.name, type: 'image/jpeg', bytes: await blob.arrayBuffer(), width: canvas.width, height: canvas.height };
}

export async function loadPhoto(): Promise<ReferencePhoto | undefined> {
  return get<ReferencePhoto>(KEY, db()).catch(() => undefined);
}

export async function savePhoto(photo: ReferencePhoto | undefined): Promise<void> {
  await (photo ? set(KEY, photo, db()) : del(KEY, db())).catch(() => undefined);
}
