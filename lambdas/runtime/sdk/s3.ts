/** The S3 client, for the Safe. */
import { S3Client } from '@aws-sdk/client-s3';
import { type ClientOptions, commonConfig, observed } from './options.ts';

export function createS3(options: ClientOptions = {}): S3Client {
  return observed(
    new S3Client({
      ...commonConfig(options),
      ...(options.endpoints?.s3 ? { endpoint: options.endpoints.s3, forcePathStyle: true } : {}),
      // Checksums only where S3 requires them: the embedded stand-in does not speak aws-chunked bodies.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    'S3',
    options,
  );
}
