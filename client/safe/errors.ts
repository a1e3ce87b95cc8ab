/**
 * Everything the Safe SDK can fail with, one class per thing a caller (or a person at the CLI)
 * would do differently. Messages say what happened and what to try; they never contain the
 * password, the backup id, the identity, the server's credentials or backup content.
 */

export type SafeErrorCode =
  | 'invalid_input'
  | 'wrong_password'
  | 'no_backup'
  | 'too_large'
  | 'unauthorized'
  | 'rate_limited'
  | 'unreachable'
  | 'server_error'
  | 'invalid_backup'
  | 'unsupported_version';

/** Base class of every Safe SDK error; `code` is stable, `message` is for people. */
export class SafeError extends Error {
  readonly code: SafeErrorCode;

  constructor(code: SafeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'SafeError';
    this.code = code;
  }
}

/** An argument is unusable: identity, password length, server URL, options. */
export class InvalidInputError extends SafeError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'InvalidInputError';
  }
}

/** The backup exists but does not decrypt with the key derived from this password and identity. */
export class WrongPasswordError extends SafeError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      'wrong_password',
      'A backup exists under this ID and password but does not decrypt with them: it was damaged, or written with a different key. Check the password; if it is right, the backup cannot be recovered.',
      options,
    );
    this.name = 'WrongPasswordError';
  }
}

/** The server has no (unexpired) backup for this identity and password. */
export class NoBackupError extends SafeError {
  constructor() {
    super(
      'no_backup',
      'The server has no backup for this ID and password. A wrong password looks exactly like a missing backup (the password names the backup), so check the password, the ID and the server URL. Backups also expire when not renewed.',
    );
    this.name = 'NoBackupError';
  }
}

/** The encrypted backup is larger than the server accepts. */
export class TooLargeError extends SafeError {
  /** Size of the encrypted backup, when known (bytes). */
  readonly size: number | undefined;
  /** The server's `maxBackupBytes`, when known. */
  readonly limit: number | undefined;

  constructor(size?: number, limit?: number) {
    super(
      'too_large',
      size !== undefined && limit !== undefined
        ? `The encrypted backup is ${size} bytes; this server accepts at most ${limit}. Remove data (e.g. the profile picture) and try again.`
        : 'The server refused the backup as too large. Remove data (e.g. the profile picture) and try again.',
    );
    this.name = 'TooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** The server wants HTTP Basic credentials, or refused the ones sent. */
export class UnauthorizedError extends SafeError {
  constructor(sentCredentials: boolean) {
    super(
      'unauthorized',
      sentCredentials
        ? 'The Safe server refused the username and password for the server. Check them.'
        : 'The Safe server requires a username and password. Put them in the URL (https://user:password@host/…) or pass them as options.',
    );
    this.name = 'UnauthorizedError';
  }
}

/** The server asks to slow down. */
export class RateLimitedError extends SafeError {
  /** Seconds the server asked to wait, when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(retryAfterSeconds?: number) {
    super(
      'rate_limited',
      `The Safe server is receiving too many requests. Try again ${retryAfterSeconds ? `in ${retryAfterSeconds} s` : 'in a minute'}.`,
    );
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No HTTP answer at all: DNS, refused connection, TLS failure or timeout. */
export class ServerUnreachableError extends SafeError {
  constructor(detail: string, options: { cause?: unknown } = {}) {
    super(
      'unreachable',
      `The Safe server could not be reached (${detail}). Check the URL and your connection.`,
      options,
    );
    this.name = 'ServerUnreachableError';
  }
}

/** The server answered, but not as a Threema Safe server should. */
export class ServerError extends SafeError {
  readonly status: number;

  constructor(status: number, message?: string) {
    super('server_error', message ?? `The Safe server answered with HTTP ${status}. Try again later.`);
    this.name = 'ServerError';
    this.status = status;
  }
}

/** The bytes or the JSON are not a Threema Safe backup. */
export class BackupFormatError extends SafeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('invalid_backup', message, options);
    this.name = 'BackupFormatError';
  }
}

/** The backup uses a newer schema version than this SDK understands. */
export class UnsupportedVersionError extends SafeError {
  readonly version: number;

  constructor(version: number, supported: number) {
    super(
      'unsupported_version',
      `The backup has schema version ${version}; this version of Switchyard reads up to ${supported}. Update Switchyard and try again.`,
    );
    this.name = 'UnsupportedVersionError';
    this.version = version;
  }
}
