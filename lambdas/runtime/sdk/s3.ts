/** The S3 client, for the Safe and the media bucket. */
import { S3Client } from '@aws-sdk/client-s3';
import { type ClientOptions, commonConfig, observed } from './options.ts';

/**
 * An S3 client. `endpoint: 'presigned'` makes the one that signs media URLs: the same as the other
 * unless `endpoints.s3Presigned` is set (the local runner's own address).
 */
export function createS3(options: ClientOptions = {}, endpoint: 's3' | 'presigned' = 's3'): S3Client {
  const url =
    endpoint === 'presigned'
      ? (options.endpoints?.s3Presigned ?? options.endpoints?.s3)
      : options.endpoints?.s3;
  return observed(
    new S3Client({
      ...commonConfig(options),
      ...(url ? { endpoint: url, forcePathStyle: true } : {}),
      // Checksums only where S3 requires them: the embedded stand-in does not speak aws-chunked bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    'S3',
    options,
  );
}
