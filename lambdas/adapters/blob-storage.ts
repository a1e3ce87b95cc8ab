/**
 * The media bucket behind BlobStorage: one object per blob under MEDIA_BUCKET.blobPrefix, named by
 * its blob id. The function only signs: uploads and downloads go from the client to S3 directly.
 *
 * An upload is a presigned POST whose policy pins the bucket, the exact object key and, with
 * `content-length-range`, the exact size: S3 refuses any other size, any other key, and any use
 * after the policy's expiry. Nobody but the holder of that policy can write to that key, and the
 * server hands it out once, for a fresh random id. Locally the runner's media proxy checks the
 * same policy before s3rver sees the request (local/media-proxy.ts).
 */
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MEDIA_BUCKET } from '../../contract/schema.ts';
import type { BlobId } from '../../protocol/media.ts';
import type { BlobStorage } from '../domain/media.ts';
import { translateAwsError } from './errors.ts';

/** The object key of a blob. */
export function blobObjectKey(blob: BlobId): string {
  return MEDIA_BUCKET.blobPrefix + blob;
}

/**
 * `signer` signs the URLs and `s3` deletes: the same client on AWS; locally the signer is pointed at
 * the runner's own address (its media proxy) so that a browser on the page's origin can use the URLs.
 */
export function s3BlobStorage(clients: { s3: S3Client; signer: S3Client }, bucket: string): BlobStorage {
  return {
    async presignUpload(blob, size, seconds) {
      const key = blobObjectKey(blob);
      const { url, fields } = await translateAwsError(() =>
        createPresignedPost(clients.signer, {
          Bucket: bucket,
          Key: key,
          Conditions: [
            ['eq', '$key', key],
            ['content-length-range', size, size],
          ],
          Expires: seconds,
        }),
      );
      return { url, fields };
    },
    presignDownload(blob, seconds) {
      return translateAwsError(() =>
        getSignedUrl(clients.signer, new GetObjectCommand({ Bucket: bucket, Key: blobObjectKey(blob) }), {
          expiresIn: seconds,
        }),
      );
    },
    async delete(blob) {
      await translateAwsError(() =>
        clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: blobObjectKey(blob) })),
      );
    },
  };
}
