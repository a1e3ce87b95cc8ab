/**
 * Files on the command line: `switchyard send ID --file PATH` uploads an end-to-end encrypted file
 * and sends its attachment; `switchyard listen` saves received files (verified first, under a
 * `.part` name until then) and reports "done" so the server deletes the blob. Long transfers show
 * their progress on stderr.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { ReceivedFile } from '../chat/messenger.ts';
import type { ChatSession } from '../chat/session.ts';
import { downloadFile, finishDownload, type Progress, uploadFile } from '../media/client.ts';
import { type Attachment, checkFileName, checkMediaType } from '../media/descriptor.ts';
import type { CliIo } from './command.ts';
import { UsageError } from './command.ts';

/** Transfers at least this large show their progress. */
const PROGRESS_FROM_BYTES = 1024 * 1024;

/** Media types by file extension, for what recipients show; anything else is application/octet-stream. */
const MEDIA_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.pdf': 'application/pdf',
  '.json': 'application/json',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.zip': 'application/zip',
};

export function mediaTypeOf(path: string, given: string | undefined): string {
  if (given !== undefined) {
    try {
      return checkMediaType(given.trim().toLowerCase());
    } catch {
      throw new UsageError('--type must look like type/subtype, e.g. image/png.');
    }
  }
  return MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A progress reporter for `what` on stderr, or nothing for small transfers. */
function progressOn(io: CliIo, what: string, total: number): Progress | undefined {
  if (total < PROGRESS_FROM_BYTES) return undefined;
  let shown = -1;
  return (done) => {
    const percent = Math.floor((done / total) * 100);
    // A terminal gets one line updated in place; a pipe a line per 25 %.
    if (io.stderr.isTTY ? percent === shown : Math.floor(percent / 25) === Math.floor(shown / 25)) return;
    shown = percent;
    io.stderr.write(
      `${io.stderr.isTTY ? '\r' : ''}switchyard: ${what} ${percent}%${io.stderr.isTTY && percent < 100 ? '' : '\n'}`,
    );
  };
}

/** Uploads the file at `path` for `to` and returns its attachment (not yet sent). */
export async function uploadPath(
  io: CliIo,
  session: ChatSession,
  to: string,
  path: string,
  mediaType: string,
): Promise<Attachment> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch {
    throw new UsageError('--file must name a readable file.');
  }
  const progress = progressOn(io, 'uploading', size);
  return uploadFile(session, {
    to,
    source: createReadStream(path),
    size,
    mediaType,
    name: checkFileName(basename(path).slice(0, 255)),
    ...(progress ? { onProgress: progress } : {}),
  });
}

/** A path in `dir` for `name` that does not exist yet: `name`, `name (1)`, … (never a path from the sender). */
function freePath(dir: string, name: string): string {
  const safe = basename(name).replace(/^\.+/, '') || 'file';
  const ext = extname(safe);
  const stem = safe.slice(0, safe.length - ext.length);
  for (let n = 0; ; n++) {
    const candidate = join(dir, n === 0 ? safe : `${stem} (${n})${ext}`);
    if (!existsSync(candidate) && !existsSync(`${candidate}.part`)) return candidate;
  }
}

/**
 * Downloads a received file into `dir`, verified: the bytes go to `NAME.part`, renamed to `NAME`
 * only once the whole blob has verified; a refused blob leaves nothing behind. Then reports "done".
 * Returns the saved path.
 */
export async function saveReceivedFile(
  io: CliIo,
  session: ChatSession,
  file: ReceivedFile,
  dir: string,
): Promise<string> {
  const path = freePath(dir, file.attachment.name);
  const partial = `${path}.part`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  const progress = progressOn(io, 'downloading', file.attachment.size);
  try {
    await downloadFile(
      session,
      file.attachment,
      async (plain) => {
        if (!out.write(plain)) await once(out, 'drain');
      },
      progress ? { onProgress: progress } : {},
    );
    out.end();
    await once(out, 'close');
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, path);
  await finishDownload(session, file.attachment.blob);
  return path;
}
