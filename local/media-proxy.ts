/**
 * The media bucket on the runner's own address: presigned URLs point here (path style,
 * `http://127.0.0.1:{port}/{bucket}/…`), so a browser on the page's origin can use them, and this
 * proxy does what S3 does with them and s3rver does not (s3rver checks no POST policy and, for
 * presigned URLs, neither expiry nor signature):
 *
 * - `POST /{bucket}` (a browser-style upload, multipart/form-data): the policy's SigV4 signature,
 *   its expiry, every condition (`bucket`, `eq`/`starts-with` on fields, `content-length-range` on
 *   the file), and no field the policy does not cover. Only then are the file's bytes streamed on
 *   to s3rver (as a PUT of exactly that many bytes). The size is known from Content-Length before a
 *   byte is forwarded, so an out-of-range upload is refused and nothing is stored, as on S3.
 * - `GET /{bucket}/{key}` with a presigned query: the SigV4 signature over the request and its
 *   expiry; then s3rver's object is streamed back. A missing object is 403, as S3 answers a signer
 *   without `s3:ListBucket`.
 * - Anything else (listing, versions, unsigned requests, other methods): 403 AccessDenied.
 *
 * Errors are S3's XML with S3's codes. Nothing here logs: object keys name blobs.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

export interface MediaProxyOptions {
  /** The media bucket's name: requests under `/{bucket}` are this proxy's. */
  readonly bucket: string;
  /** s3rver's endpoint (`http://127.0.0.1:{port}`). */
  readonly upstream: string;
  /** The key pair and Region the signer (the runner's S3 client) uses. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly region: string;
  /** Milliseconds since the epoch (tests move it). */
  readonly now?: () => number;
}

/** The longest form before the file part (S3 caps a policy at 20 KB; fields are short). */
const MAX_FORM_PREFIX_BYTES = 64 * 1024;
/** S3's longest validity of a presigned URL (7 days). */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const ALGORITHM = 'AWS4-HMAC-SHA256';

class S3Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const denied = (message: string) => new S3Refusal(403, 'AccessDenied', message);

function sendError(response: ServerResponse, refusal: S3Refusal): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`;
  if (response.headersSent) return void response.destroy();
  response.writeHead(refusal.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `20250101T000000Z` → ms, or NaN. */
function amzDateMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Number.NaN;
}

/** RFC 3986 encoding as SigV4 canonicalises query parameters. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function createMediaProxy(options: MediaProxyOptions) {
  const now = options.now ?? Date.now;
  const prefix = `/${options.bucket}`;
  const upstream = new URL(options.upstream);

  /** The signing key of a credential scope `AKID/date/region/s3/aws4_request`, after checking it is ours. */
  function signingKey(credential: string, amzDate: string): Buffer {
    const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
    if (
      rest.length > 0 ||
      accessKeyId !== options.credentials.accessKeyId ||
      region !== options.region ||
      service !== 's3' ||
      terminator !== 'aws4_request' ||
      !date ||
      !amzDate.startsWith(date)
    )
      throw denied('The credential is not valid for this bucket.');
    return hmac(
      hmac(hmac(hmac(`AWS4${options.credentials.secretAccessKey}`, date), region), 's3'),
      'aws4_request',
    );
  }

  /** A presigned GET: SigV4 in the query string, payload unsigned, within its expiry. */
  function checkPresignedGet(request: IncomingMessage, rawPath: string, rawQuery: string): void {
    const params = rawQuery
      .split('&')
      .filter((pair) => pair !== '')
      .map((pair) => {
        const at = pair.indexOf('=');
        const [k, v] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
        return [decodeURIComponent(k), decodeURIComponent(v.replace(/\+/g, '%20'))] as const;
      });
    const get = (name: string) => params.find(([k]) => k === name)?.[1];
    const signature = get('X-Amz-Signature');
    const amzDate = get('X-Amz-Date') ?? '';
    const expires = Number(get('X-Amz-Expires'));
    const signedHeaders = get('X-Amz-SignedHeaders');
    if (get('X-Amz-Algorithm') !== ALGORITHM || !signature || !signedHeaders || !get('X-Amz-Credential'))
      throw denied('Anonymous access is not allowed.');
    const issued = amzDateMs(amzDate);
    if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS || Number.isNaN(issued))
      throw denied('The presigned URL is malformed.');
    if (now() > issued + expires * 1000) throw denied('Request has expired');
    const key = signingKey(get('X-Amz-Credential')!, amzDate);
    const canonicalQuery = params
      .filter(([k]) => k !== 'X-Amz-Signature')
      .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
      .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const names = signedHeaders.split(';');
    const canonicalHeaders = names
      .map((name) => {
        const value = request.headers[name];
        return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}\n`;
      })
      .join('');
    const canonical = [
      'GET',
      rawPath,
      canonicalQuery,
      canonicalHeaders,
      signedHeaders,
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const scope = get('X-Amz-Credential')!.split('/').slice(1).join('/');
    const toSign = [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
    if (!equalHex(createHmac('sha256', key).update(toSign).digest('hex'), signature))
      throw new S3Refusal(403, 'SignatureDoesNotMatch', 'The request signature does not match.');
  }

  async function get(request: IncomingMessage, response: ServerResponse, rawPath: string, rawQuery: string) {
    checkPresignedGet(request, rawPath, rawQuery);
    const upstreamRequest = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: 'GET',
      path: rawPath,
      headers: request.headers.range ? { range: request.headers.range } : {},
    });
    upstreamRequest.end();
    const [upstreamResponse] = (await once(upstreamRequest, 'response')) as [IncomingMessage];
    const status = upstreamResponse.statusCode ?? 502;
    if (status !== 200 && status !== 206) {
      upstreamResponse.resume();
      throw denied('Access Denied');
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-length', 'content-range', 'etag', 'last-modified', 'accept-ranges']) {
      const value = upstreamResponse.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    response.writeHead(status, { ...headers, 'content-type': 'application/octet-stream' });
    upstreamResponse.pipe(response);
    await once(response, 'close');
  }

  /** A browser-style POST upload: the form's fields, the policy's checks, then the file to s3rver. */
  async function post(request: IncomingMessage, response: ServerResponse) {
    const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(
      request.headers['content-type'] ?? '',
    );
    if (!boundary) throw new S3Refusal(412, 'PreconditionFailed', 'Bucket POST must be multipart/form-data.');
    const length = Number(request.headers['content-length']);
    if (request.headers['content-length'] === undefined || !Number.isSafeInteger(length))
      throw new S3Refusal(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
    const chunks = request[Symbol.asyncIterator]() as AsyncIterator<Buffer>;

    // The fields before the file part.
    let buffered = Buffer.alloc(0);
    let form: ReturnType<typeof parseFormPrefix>;
    for (;;) {
      form = parseFormPrefix(buffered, delimiter);
      if (form) break;
      if (buffered.length > MAX_FORM_PREFIX_BYTES)
        throw new S3Refusal(400, 'MalformedPOSTRequest', 'The form before the file is too long.');
      const next = await chunks.next();
      if (next.done) throw new S3Refusal(400, 'MalformedPOSTRequest', 'The body is not multipart/form-data.');
      buffered = Buffer.concat([buffered, next.value]);
    }
    const { fields, fileStart } = form;
    const { key, range } = checkPolicy(fields);

    // The file ends before "\r\n--boundary--", which may be followed by "\r\n".
    const closing = 2 + delimiter.length + 2;
    const withCrlf = length - fileStart - closing - 2;
    const candidates = [withCrlf, withCrlf + 2].filter((size) => size >= 0);
    const fits = candidates.filter((size) => !range || (size >= range[0] && size <= range[1]));
    if (fits.length === 0) {
      // Named after the usual form, which ends with "\r\n" (browsers, the SDK).
      const tooSmall = range !== undefined && withCrlf < range[0];
      throw tooSmall
        ? new S3Refusal(
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed size.',
          )
        : new S3Refusal(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    }
    const size = fits[0]!;

    const upstreamRequest = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: 'PUT',
      path: `/${options.bucket}/${key.split('/').map(uriEncode).join('/')}`,
      headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
    });
    const answered = once(upstreamRequest, 'response') as Promise<[IncomingMessage]>;
    answered.catch(() => {});
    let remaining = size;
    let trailer = Buffer.alloc(0);
    const forward = async (chunk: Buffer) => {
      const part = chunk.subarray(0, remaining);
      remaining -= part.length;
      trailer = Buffer.concat([trailer, chunk.subarray(part.length)]);
      if (part.length > 0 && !upstreamRequest.write(part)) await once(upstreamRequest, 'drain');
    };
    await forward(buffered.subarray(fileStart));
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      await forward(next.value);
    }
    upstreamRequest.end();
    const [upstreamResponse] = await answered;
    upstreamResponse.resume();
    const expected = `\r\n${delimiter.toString('latin1')}--`;
    const text = trailer.toString('latin1');
    if (remaining > 0 || (text !== expected && text !== `${expected}\r\n`))
      // Only the holder of this key's policy can get here, and only with a body that lied about its
      // own end: its blob is damaged, which the recipients' verification catches (as any garbage).
      throw new S3Refusal(400, 'MalformedPOSTRequest', 'The body does not end the form properly.');
    if (upstreamResponse.statusCode !== 200) throw new S3Refusal(500, 'InternalError', 'The store failed.');
    const etag = upstreamResponse.headers.etag;
    response.writeHead(204, { ...(typeof etag === 'string' ? { etag } : {}), 'content-length': '0' });
    response.end();
  }

  /**
   * The policy's signature and expiry, every condition, and no field it does not cover. Returns the
   * object key and the policy's content-length-range, if any.
   */
  function checkPolicy(fields: ReadonlyMap<string, string>): { key: string; range?: [number, number] } {
    const policy = fields.get('policy');
    const signature = fields.get('x-amz-signature');
    const credential = fields.get('x-amz-credential');
    const amzDate = fields.get('x-amz-date') ?? '';
    if (!policy || !signature || !credential || fields.get('x-amz-algorithm') !== ALGORITHM)
      throw denied('Invalid according to Policy: the form is not signed.');
    const key = signingKey(credential, amzDate);
    if (!equalHex(createHmac('sha256', key).update(policy).digest('hex'), signature))
      throw new S3Refusal(403, 'SignatureDoesNotMatch', 'The request signature does not match.');
    let document: { expiration?: unknown; conditions?: unknown };
    try {
      document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
    } catch {
      throw new S3Refusal(400, 'InvalidPolicyDocument', 'The policy is not valid JSON.');
    }
    const expiration = typeof document.expiration === 'string' ? Date.parse(document.expiration) : Number.NaN;
    if (Number.isNaN(expiration) || now() >= expiration)
      throw denied('Invalid according to Policy: Policy expired.');
    if (!Array.isArray(document.conditions))
      throw new S3Refusal(400, 'InvalidPolicyDocument', 'The policy has no conditions.');
    const values = new Map(fields);
    values.set('bucket', options.bucket);
    const covered = new Set<string>();
    let range: [number, number] | undefined;
    const failed = () => denied('Invalid according to Policy: Policy Condition failed.');
    for (const condition of document.conditions as unknown[]) {
      if (Array.isArray(condition) && condition[0] === 'content-length-range') {
        const [, min, max] = condition as [string, unknown, unknown];
        if (typeof min !== 'number' || typeof max !== 'number') throw failed();
        range = [min, max];
        continue;
      }
      const [op, name, expected] = Array.isArray(condition)
        ? (condition as [unknown, unknown, unknown])
        : (() => {
            const entries = Object.entries(condition as Record<string, unknown>);
            if (entries.length !== 1) throw failed();
            return ['eq', `$${entries[0]![0]}`, entries[0]![1]] as const;
          })();
      if (typeof name !== 'string' || !name.startsWith('$') || typeof expected !== 'string') throw failed();
      const field = name.slice(1).toLowerCase();
      const actual = values.get(field);
      covered.add(field);
      if (op === 'eq' && actual !== expected) throw failed();
      if (op === 'starts-with' && !(actual ?? '').startsWith(expected)) throw failed();
      if (op !== 'eq' && op !== 'starts-with') throw failed();
    }
    for (const field of fields.keys()) {
      if (['policy', 'x-amz-signature', 'file'].includes(field) || field.startsWith('x-ignore-')) continue;
      if (!covered.has(field)) throw denied('Invalid according to Policy: Extra input fields.');
    }
    const objectKey = fields.get('key');
    if (!objectKey)
      throw new S3Refusal(400, 'InvalidArgument', 'Bucket POST must contain a field named key.');
    return { key: objectKey, ...(range ? { range } : {}) };
  }

  /** Answers a request under `/{bucket}` and returns true; false for any other path. */
  return async function serve(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : url.slice(queryAt + 1);
    if (rawPath !== prefix && !rawPath.startsWith(`${prefix}/`)) return false;
    try {
      const objectPath = rawPath.slice(prefix.length + 1);
      if (request.method === 'POST' && objectPath === '' && rawQuery === '') await post(request, response);
      else if (request.method === 'GET' && objectPath !== '') await get(request, response, rawPath, rawQuery);
      else throw denied('Access Denied');
    } catch (error) {
      request.resume();
      if (error instanceof S3Refusal) sendError(response, error);
      else sendError(response, new S3Refusal(500, 'InternalError', 'We encountered an internal error.'));
    }
    return true;
  };
}

/**
 * The fields of a multipart/form-data body up to its `file` part, and where the file's bytes start;
 * undefined while `buffer` does not reach that far. Field names are case-insensitive (as on S3).
 */
function parseFormPrefix(
  buffer: Buffer,
  delimiter: Buffer,
): { fields: Map<string, string>; fileStart: number } | undefined {
  const fields = new Map<string, string>();
  let at = buffer.indexOf(delimiter);
  if (at < 0) return undefined;
  at += delimiter.length;
  for (;;) {
    if (buffer.length < at + 2) return undefined;
    if (buffer.subarray(at, at + 2).toString('latin1') !== '\r\n')
      throw new S3Refusal(400, 'MalformedPOSTRequest', 'The form has no file.');
    const headersEnd = buffer.indexOf('\r\n\r\n', at + 2);
    if (headersEnd < 0) return undefined;
    const headers = buffer.subarray(at + 2, headersEnd).toString('latin1');
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(headers)?.[1]?.toLowerCase();
    if (name === undefined) throw new S3Refusal(400, 'MalformedPOSTRequest', 'A form part has no name.');
    const valueStart = headersEnd + 4;
    if (name === 'file') return { fields, fileStart: valueStart };
    const end = buffer.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), valueStart);
    if (end < 0) return undefined;
    fields.set(name, buffer.subarray(valueStart, end).toString('utf8'));
    at = end + 2 + delimiter.length;
  }
}
