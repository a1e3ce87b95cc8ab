/**
 * A Threema Safe client over HTTP: works against a Switchyard Safe (`…/safe/`) and any other
 * Threema-compatible Safe server. It speaks exactly what the Threema apps speak (protocol/safe.ts),
 * and maps every answer to a typed error from ./errors.ts.
 */
import { toBase64 } from '../../protocol/bytes.ts';
import { LIMITS } from '../../protocol/limits.ts';
import {
  type BackupId,
  parseSafeConfig,
  SAFE_CONFIG_PATH,
  type SafeConfig,
  safeBackupPath,
} from '../../protocol/safe.ts';
import { decryptSafeBackup, encryptSafeBackup } from './codec.ts';
import {
  BackupFormatError,
  InvalidInputError,
  NoBackupError,
  RateLimitedError,
  type SafeError,
  ServerError,
  ServerUnreachableError,
  TooLargeError,
  UnauthorizedError,
} from './errors.ts';
import { encodeSafeBackup, parseSafeBackup, type SafeBackup } from './format.ts';
import { type DeriveOptions, deriveSafeKeys, type SafeKeys } from './keys.ts';

/** Credentials for a Safe server that uses HTTP Basic auth (not the Safe password). */
export interface ServerCredentials {
  readonly username: string;
  readonly password: string;
}

export interface SafeServerOptions {
  /**
   * Base URL of the Safe server, e.g. `https://safe.example.com/safe/` (a trailing `/` is added).
   * `https://` is required, except `http://` for localhost / 127.0.0.1 / [::1]. Credentials in the
   * URL (`https://user:pass@host/`) are used for Basic auth, as the Threema apps do. A
   * `{backupIdPrefix8}` placeholder in the host is replaced with the backup id's first byte in hex.
   */
  readonly server: string;
  /** Basic auth credentials; override any in the URL. */
  readonly credentials?: ServerCredentials;
  /** Per-request timeout (ms, default 30 000). */
  readonly timeoutMs?: number;
  /** A fetch implementation (default: the global one). */
  readonly fetch?: typeof fetch;
}

const PREFIX_PLACEHOLDER = '{backupIdPrefix8}';
const PREFIX_MARKER = 'backupidprefix8-placeholder';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

interface ParsedServer {
  /** Base URL with a trailing slash, credentials removed; may contain the prefix placeholder. */
  readonly base: string;
  readonly credentials: ServerCredentials | undefined;
}

/**
 * Validates a Safe server URL and splits off credentials.
 *
 * @throws InvalidInputError for anything but an https URL (or http on localhost) without query or fragment.
 */
export function parseSafeServerUrl(server: string): ParsedServer {
  let url: URL;
  try {
    // The placeholder is not a valid host label; a marker that is stands in while parsing.
    url = new URL(String(server).replaceAll(PREFIX_PLACEHOLDER, PREFIX_MARKER));
  } catch {
    throw new InvalidInputError(
      'The Safe server URL is not a valid URL (e.g. https://safe.example.com/safe/).',
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname)))
    throw new InvalidInputError('The Safe server URL must start with https:// (http:// only for localhost).');
  if (url.search || url.hash)
    throw new InvalidInputError('The Safe server URL must not have a query (?…) or fragment (#…).');
  let credentials: ServerCredentials | undefined;
  if (url.username || url.password) {
    try {
      credentials = {
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      };
    } catch {
      throw new InvalidInputError('The credentials in the Safe server URL are not correctly %-encoded.');
    }
    url.username = '';
    url.password = '';
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { base: url.href.replaceAll(PREFIX_MARKER, PREFIX_PLACEHOLDER), credentials };
}

function basicAuthorization(credentials: ServerCredentials): string {
  return `Basic ${toBase64(new TextEncoder().encode(`${credentials.username}:${credentials.password}`))}`;
}

function retryAfter(response: Response): number | undefined {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * A connection to one Safe server. Methods take a backup id (from {@link deriveSafeKeys}) and move
 * opaque bodies; {@link SafeClient.backup} and {@link SafeClient.restore} also encrypt and decrypt.
 */
export class SafeClient {
  readonly #base: string;
  readonly #credentials: ServerCredentials | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  /** @throws InvalidInputError for an unusable server URL. */
  constructor(options: SafeServerOptions) {
    const parsed = parseSafeServerUrl(options.server);
    this.#base = parsed.base;
    this.#credentials = options.credentials ?? parsed.credentials;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    // Bound: browsers refuse a fetch called as a method of another object ("Illegal invocation").
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #url(path: string, id?: BackupId): string {
    return new URL(path, this.#base.replaceAll(PREFIX_PLACEHOLDER, id ? id.slice(0, 2) : '00')).href;
  }

  async #request(
    method: string,
    path: string,
    id: BackupId | undefined,
    init: { accept?: string; body?: Uint8Array } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init.accept) headers.accept = init.accept;
    if (init.body) headers['content-type'] = 'application/octet-stream';
    if (this.#credentials) headers.authorization = basicAuthorization(this.#credentials);
    let response: Response;
    try {
      response = await this.#fetch(this.#url(path, id), {
        method,
        headers,
        ...(init.body ? { body: init.body as Uint8Array<ArrayBuffer> } : {}),
        // A redirect is reported, not followed: following it would resend the body (and maybe
        // the credentials) to an address the user never chose.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new ServerUnreachableError(`no answer within ${Math.round(this.#timeoutMs / 1000)} s`, {
          cause: error,
        });
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new ServerUnreachableError(typeof code === 'string' ? code : 'network error', { cause: error });
    }
    if (response.ok) return response;
    // Drain the body so the connection can be reused; its content is not needed.
    await response.arrayBuffer().catch(() => undefined);
    throw this.#errorFor(response, path === SAFE_CONFIG_PATH);
  }

  #errorFor(response: Response, isConfig: boolean): SafeError {
    switch (response.status) {
      case 401:
        return new UnauthorizedError(this.#credentials !== undefined);
      case 404:
        return isConfig
          ? new ServerError(
              404,
              'No Threema Safe server answers at this URL (config: 404). Check the URL; a Switchyard Safe ends in /safe/.',
            )
          : new NoBackupError();
      case 413:
        return new TooLargeError();
      case 429:
        return new RateLimitedError(retryAfter(response));
      case 400:
        return new ServerError(400, 'The Safe server refused the request as malformed.');
      default:
        return response.status >= 300 && response.status < 400
          ? new ServerError(
              response.status,
              'The Safe server redirects elsewhere. Use the address it redirects to as the server URL.',
            )
          : new ServerError(response.status);
    }
  }

  /** `GET config`: the server's size limit and retention. */
  async config(): Promise<SafeConfig> {
    const response = await this.#request('GET', SAFE_CONFIG_PATH, undefined, { accept: 'application/json' });
    const text = await response.text();
    try {
      return parseSafeConfig(text);
    } catch {
      throw new ServerError(
        response.status,
        'The Safe server answered config with something that is not a Safe config.',
      );
    }
  }

  /**
   * `PUT backups/<id>`. Checks the size against the server's `maxBackupBytes` first (as the Threema
   * apps do), so a backup that is too large is never sent.
   *
   * @throws TooLargeError when the body exceeds the server's limit.
   */
  async upload(id: BackupId, body: Uint8Array, config?: SafeConfig): Promise<void> {
    const limit = (config ?? (await this.config())).maxBackupBytes;
    if (body.length > limit) throw new TooLargeError(body.length, limit);
    const response = await this.#request('PUT', safeBackupPath(id), id, { body });
    await response.arrayBuffer();
  }

  /**
   * `GET backups/<id>`: the encrypted body.
   *
   * @throws NoBackupError when the server has none (or it expired).
   */
  async download(id: BackupId): Promise<Uint8Array> {
    const response = await this.#request('GET', safeBackupPath(id), id, {
      accept: 'application/octet-stream',
    });
    if (response.status !== 200) throw new ServerError(response.status);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > LIMITS.httpBodyBytes) {
      await response.body?.cancel();
      throw new BackupFormatError('The server returned more data than any Safe backup can have.');
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > LIMITS.httpBodyBytes)
      throw new BackupFormatError('The server returned more data than any Safe backup can have.');
    return bytes;
  }

  /** `HEAD backups/<id>`: whether the server holds a backup. */
  async exists(id: BackupId): Promise<boolean> {
    try {
      const response = await this.#request('HEAD', safeBackupPath(id), id);
      return response.status === 200;
    } catch (error) {
      if (error instanceof NoBackupError) return false;
      throw error;
    }
  }

  /** `DELETE backups/<id>`. Deleting a backup that does not exist is not an error. */
  async delete(id: BackupId): Promise<void> {
    try {
      const response = await this.#request('DELETE', safeBackupPath(id), id);
      await response.arrayBuffer();
    } catch (error) {
      if (!(error instanceof NoBackupError)) throw error;
    }
  }

  /**
   * Encrypts a backup with `keys` and uploads it, replacing the previous one.
   *
   * @returns the size of the encrypted body and the server's config (e.g. how long it keeps it).
   * @throws BackupFormatError / UnsupportedVersionError when `backup` is not a valid v1 backup,
   *   TooLargeError when the encrypted body exceeds the server's limit, and the HTTP errors.
   */
  async backup(keys: SafeKeys, backup: SafeBackup | string): Promise<{ bytes: number; config: SafeConfig }> {
    // Text is uploaded exactly as given once it has been checked; an object is serialised.
    if (typeof backup === 'string') parseSafeBackup(backup, { forUpload: true });
    const json = typeof backup === 'string' ? backup : encodeSafeBackup(backup);
    const body = encryptSafeBackup(json, keys.encryptionKey);
    const config = await this.config();
    await this.upload(keys.backupId, body, config);
    return { bytes: body.length, config };
  }

  /**
   * Downloads and decrypts the backup for `keys`.
   *
   * @returns the parsed backup and its JSON text exactly as it was stored.
   * @throws NoBackupError, WrongPasswordError, BackupFormatError, UnsupportedVersionError and the HTTP errors.
   */
  async restore(keys: SafeKeys): Promise<{ backup: SafeBackup; json: string }> {
    const json = decryptSafeBackup(await this.download(keys.backupId), keys.encryptionKey);
    return { backup: parseSafeBackup(json), json };
  }
}

export interface SafeSession extends SafeServerOptions, DeriveOptions {
  /** The Threema ID (8 characters; lowercase is raised). */
  readonly identity: string;
  /** The Safe password (8–4096 characters). */
  readonly password: string;
}

/**
 * Derives the keys for `identity` and `password`, encrypts `backup` and uploads it.
 *
 * @throws InvalidInputError for a bad ID, password or URL, and everything {@link SafeClient.backup} throws.
 */
export async function backupToSafe(
  session: SafeSession & { readonly backup: SafeBackup | string },
): Promise<{ bytes: number; config: SafeConfig; keys: SafeKeys }> {
  const client = new SafeClient(session);
  const keys = await deriveSafeKeys(session.identity, session.password, session);
  return { ...(await client.backup(keys, session.backup)), keys };
}

/**
 * Derives the keys for `identity` and `password`, downloads the backup and decrypts it.
 *
 * @throws InvalidInputError for a bad ID, password or URL, and everything {@link SafeClient.restore} throws.
 */
export async function restoreFromSafe(session: SafeSession): Promise<{ backup: SafeBackup; json: string }> {
  const client = new SafeClient(session);
  const keys = await deriveSafeKeys(session.identity, session.password, session);
  return client.restore(keys);
}
