/**
 * QR codes for verifying contacts in person (npm `qr`: encoder and decoder, pure JS): showing this
 * identity's code, and reading a contact's code from the camera or from a picture of it. Where no
 * camera is available (or allowed) the person pastes the code's text instead.
 */
import encodeQR from 'qr';
import { decodeQR } from 'qr/decode.js';

/** Draws `text` as a QR code (SVG) into `container`, labelled for screen readers. */
export function showQr(container: HTMLElement, text: string, label: string): void {
  const svg = new DOMParser().parseFromString(
    encodeQR(text, 'svg', { ecc: 'medium', border: 2 }),
    'image/svg+xml',
  ).documentElement as unknown as SVGSVGElement;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  container.replaceChildren(svg);
}

function decodeCanvas(canvas: HTMLCanvasElement): string | undefined {
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  try {
    return decodeQR({ width: image.width, height: image.height, data: image.data });
  } catch {
    return undefined;
  }
}

/** The text of the QR code in a picture, or undefined when none is found. */
export async function readQrFromImage(file: Blob): Promise<string | undefined> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return decodeCanvas(canvas);
}

/** Whether this browser can offer a camera at all. */
export function hasCamera(): boolean {
  return typeof navigator.mediaDevices?.getUserMedia === 'function';
}

/**
 * Scans from the camera into `video` until a QR code is read (resolves with its text) or `signal`
 * aborts (resolves undefined). Rejects when the camera cannot be opened.
 */
export async function scanWithCamera(
  video: HTMLVideoElement,
  signal: AbortSignal,
): Promise<string | undefined> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  video.srcObject = stream;
  await video.play();
  const canvas = document.createElement('canvas');
  try {
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!video.videoWidth) continue;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d', { willReadFrequently: true })!.drawImage(video, 0, 0);
      const text = decodeCanvas(canvas);
      if (text) return text;
    }
    return undefined;
  } finally {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }
}
