/**
 * Media blob rules: an authenticated identity is granted a presigned upload of an exact size, its
 * recipients get presigned downloads, and the blob is deleted once every recipient reported "done"
 * (or its uploader cancelled it), or when it expires. No AWS imports; records and the bucket come in
 * through the ports below. The server never holds a blob's key: blobs are encrypted by the clients.
 *
 * The quota counts an uploader's own blobs in flight only, so nobody can use up another identity's
 * room; and the uploader can always free it at once by reporting "done" on its own blob (cancel).
 */
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { BLOB_ID_BYTES, type BlobId, blobIdFrom, type UploadRequest } from '../../protocol/media.ts';
import { type Clock, epochSeconds, type Random } from './clock.ts';

export interface BlobRecord {
  readonly blob: BlobId;
  readonly owner: IdentityId;
  /** The encrypted blob's exact size (bytes). */
  readonly size: number;
  /** Recipients that have not reported "done" yet. */
  readonly recipients: readonly IdentityId[];
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface Quota {
  readonly maxBytes: number;
  readonly maxBlobs: number;
}

/** Blob records and the uploaders' quota counters. */
export interface BlobRecords {
  /**
   * Stores a new record and charges its size to the owner's counter, all or nothing;
   * `quota_exceeded` (nothing stored) when the owner's unexpired blobs leave no room.
   */
  create(record: BlobRecord, quota: Quota, nowSeconds: number): Promise<'created' | 'quota_exceeded'>;
  get(blob: BlobId): Promise<BlobRecord | undefined>;
  /**
   * Removes `recipient` from the record's recipients; returns those left, or undefined when it was
   * not one of them (or the record is gone).
   */
  removeRecipient(blob: BlobId, recipient: IdentityId): Promise<readonly IdentityId[] | undefined>;
  /** Deletes the record and releases its size from the owner's counter; false if it was gone already. */
  delete(record: BlobRecord, nowSeconds: number): Promise<boolean>;
}

/** A presigned browser-style upload: POST multipart/form-data to `url` with `fields`, then the file. */
export interface PresignedUpload {
  readonly url: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** The media bucket. Presigning is local computation; only `delete` calls S3. */
export interface BlobStorage {
  /** A POST policy for exactly this blob's object key and exactly `size` bytes, valid `seconds`. */
  presignUpload(blob: BlobId, size: number, seconds: number): Promise<PresignedUpload>;
  /** A GET URL for this blob's object, valid `seconds`. */
  presignDownload(blob: BlobId, seconds: number): Promise<string>;
  /** Deletes the object; an absent one is fine. */
  delete(blob: BlobId): Promise<void>;
}

export interface MediaDeps {
  readonly records: BlobRecords;
  readonly storage: BlobStorage;
  readonly clock: Clock;
  readonly random: Random;
  readonly maxBlobBytes: number;
  readonly ttlDays: number;
  readonly quotaBytes: number;
}

export function createMedia(deps: MediaDeps) {
  const nowSeconds = () => epochSeconds(deps.clock.now());

  /** The object first: a record without its object is harmless, an object without a record is not found. */
  async function erase(record: BlobRecord): Promise<boolean> {
    await deps.storage.delete(record.blob);
    return deps.records.delete(record, nowSeconds());
  }

  /** An unexpired record; expired ones are gone even before TTL deletes them. */
  async function live(blob: BlobId): Promise<BlobRecord | undefined> {
    const record = await deps.records.get(blob);
    return record && record.expiresAt > nowSeconds() ? record : undefined;
  }

  return {
    /** `blobUpload`: a fresh blob id and a presigned upload bounded to the declared size. */
    async upload(owner: IdentityId, request: Pick<UploadRequest, 'size' | 'to'>) {
      if (request.size > deps.maxBlobBytes) throw new SwitchyardError('too_large');
      const blob = blobIdFrom(deps.random.bytes(BLOB_ID_BYTES));
      const now = nowSeconds();
      const expiresAt = now + deps.ttlDays * 86_400;
      // Presigned before anything is stored: a failure here leaves no record holding quota.
      const upload = await deps.storage.presignUpload(blob, request.size, LIMITS.mediaUploadUrlSeconds);
      const outcome = await deps.records.create(
        { blob, owner, size: request.size, recipients: request.to, expiresAt },
        { maxBytes: deps.quotaBytes, maxBlobs: LIMITS.mediaBlobsInFlight },
        now,
      );
      if (outcome === 'quota_exceeded') throw new SwitchyardError('quota_exceeded');
      return { blob, ...upload, expiresAt: expiresAt * 1000 };
    },

    /**
     * `blobDownload`: a presigned GET for a recipient that has not reported "done" (or the uploader).
     * Unknown, expired and someone else's blobs are all `not_found`, so a probe learns nothing.
     */
    async download(identity: IdentityId, blob: BlobId) {
      const record = await live(blob);
      if (!record || (record.owner !== identity && !record.recipients.includes(identity)))
        throw new SwitchyardError('not_found');
      // Never valid past the blob's expiry: the check on every download is also the URL's bound.
      const seconds = Math.min(LIMITS.mediaDownloadUrlSeconds, record.expiresAt - nowSeconds());
      const url = await deps.storage.presignDownload(blob, seconds);
      return { url, size: record.size, expiresAt: (nowSeconds() + seconds) * 1000 };
    },

    /**
     * `blobDone`: a recipient has the blob (or gives up on it); the uploader cancels it. The blob is
     * deleted when no recipient is left. `deleted` says whether this call deleted it. Idempotent: a
     * repeated "done", or one for an unknown blob, deletes nothing.
     */
    async done(identity: IdentityId, blob: BlobId): Promise<{ deleted: boolean }> {
      const record = await deps.records.get(blob);
      if (!record) return { deleted: false };
      if (record.owner === identity) return { deleted: await erase(record) };
      let left = record.recipients;
      if (left.includes(identity)) {
        const after = await deps.records.removeRecipient(blob, identity);
        if (after === undefined) return { deleted: false };
        left = after;
      }
      // Everyone is done (a deletion that failed half-way is finished by the next "done").
      if (left.length === 0) return { deleted: await erase(record) };
      return { deleted: false };
    },
  };
}

export type Media = ReturnType<typeof createMedia>;
