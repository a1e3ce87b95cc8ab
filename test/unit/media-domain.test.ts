/**
 * The media rules with stubbed ports and a moving clock: what an expired, unknown or foreign blob
 * gets, how long a download URL lives, and who deletes what. (Against the real table and bucket:
 * test/e2e/media.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { type BlobRecord, type BlobStorage, createMedia } from '../../lambdas/domain/media.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { BlobId } from '../../protocol/media.ts';

const A = 'AAAAAAAA' as IdentityId;
const B = 'BBBBBBBB' as IdentityId;
const C = 'CCCCCCCC' as IdentityId;

function setup() {
  let now = 1_800_000_000_000;
  const records = new Map<BlobId, BlobRecord>();
  const signed: number[] = [];
  const deleted: BlobId[] = [];
  const storage: BlobStorage = {
    presignUpload: async () => ({ url: 'https://s3.example/bucket', fields: {} }),
    presignDownload: async (_blob, seconds) => {
      signed.push(seconds);
      return 'https://s3.example/bucket/blobs/x';
    },
    delete: async (blob) => void deleted.push(blob),
  };
  const media = createMedia({
    records: {
      create: async (record) => {
        records.set(record.blob, record);
        return 'created';
      },
      get: async (blob) => records.get(blob),
      removeRecipient: async (blob, recipient) => {
        const record = records.get(blob);
        if (!record?.recipients.includes(recipient)) return undefined;
        const left = record.recipients.filter((r) => r !== recipient);
        records.set(blob, { ...record, recipients: left });
        return left;
      },
      delete: async (record) => records.delete(record.blob),
    },
    storage,
    clock: { now: () => now },
    random: { bytes: (n) => new Uint8Array(n).fill(records.size + 1) },
    maxBlobBytes: 1000,
    ttlDays: 14,
    quotaBytes: 10_000,
  });
  return { media, records, signed, deleted, advance: (ms: number) => (now += ms) };
}

describe('media rules', () => {
  it('refuses a download once the blob has expired, even while its record and object remain', async () => {
    const { media, records, signed, advance } = setup();
    const { blob } = await media.upload(A, { size: 100, to: [B] });
    advance(14 * 86_400_000 - 60_000);
    await media.download(B, blob);
    // A URL issued a minute before expiry lives one minute, not fifteen.
    expect(signed.at(-1)).toBe(60);
    advance(60_000);
    await expect(media.download(B, blob)).rejects.toMatchObject({ code: 'not_found' });
    expect(records.has(blob)).toBe(true);
    expect(signed).toHaveLength(1);
  });

  it('signs downloads for the listed recipients and the uploader only, for 15 minutes', async () => {
    const { media, signed } = setup();
    const { blob } = await media.upload(A, { size: 100, to: [B] });
    await media.download(B, blob);
    await media.download(A, blob);
    await expect(media.download(C, blob)).rejects.toMatchObject({ code: 'not_found' });
    expect(signed).toEqual([LIMITS.mediaDownloadUrlSeconds, LIMITS.mediaDownloadUrlSeconds]);
  });

  it('deletes when the last recipient is done, at once when the uploader cancels, never for a stranger', async () => {
    const { media, records, deleted } = setup();
    const first = await media.upload(A, { size: 100, to: [B, C] });
    expect(await media.done(C, first.blob)).toEqual({ deleted: false });
    // Repeated: harmless, and Carol cannot finish it for Bob.
    expect(await media.done(C, first.blob)).toEqual({ deleted: false });
    expect(await media.done(B, first.blob)).toEqual({ deleted: true });
    expect(deleted).toEqual([first.blob]);
    const second = await media.upload(A, { size: 100, to: [B] });
    expect(await media.done('DDDDDDDD' as IdentityId, second.blob)).toEqual({ deleted: false });
    expect(await media.done(A, second.blob)).toEqual({ deleted: true });
    expect(records.size).toBe(0);
  });
});
