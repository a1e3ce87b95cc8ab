/**
 * The one error hierarchy. Every error that reaches a client carries a stable `code` from
 * {@link ERROR_CODES}; its message never contains an identifier, a key or any request data.
 */
export const ERROR_CODES = {
  /** The request or frame is larger than the route accepts. */
  too_large: { status: 413, message: 'Request too large' },
  /** The request or frame is not in the documented shape. */
  bad_request: { status: 400, message: 'Malformed request' },
  /** The frame names an action the server does not know. */
  unknown_action: { status: 400, message: 'Unknown action' },
  /** No such resource. */
  not_found: { status: 404, message: 'Not found' },
  /** The HTTP method is not supported on this path. */
  method_not_allowed: { status: 405, message: 'Method not allowed' },
  /** Credentials are missing or wrong. */
  unauthorized: { status: 401, message: 'Authentication required' },
  /** Directory: the challenge is unknown, already used, expired, or for another request. Ask for a new one. */
  challenge_invalid: { status: 401, message: 'Challenge invalid or expired' },
  /** Directory: the response does not prove possession of the identity's key. */
  proof_invalid: { status: 401, message: 'Proof of key possession failed' },
  /** Directory: the proof of work is missing, too small or for another request (ask for a new challenge). */
  work_required: { status: 401, message: 'Proof of work required' },
  /** Directory: this deployment registers new identities only with an operator's invite. */
  invite_required: { status: 403, message: 'A valid invite is required' },
  /** Directory: revocation refused (unknown identity, no revocation password, or a wrong one). */
  revocation_failed: { status: 403, message: 'Revocation refused' },
  /** Directory: the verification code is wrong, expired or out of tries. */
  code_invalid: { status: 400, message: 'Verification code invalid' },
  /** Vault: the login failed: wrong password, no such vault, or a login already finished or expired. */
  vault_login_failed: { status: 403, message: 'Vault login failed' },
  /** Vault: storing needs an e-mail address or phone number linked in the directory that codes reach. */
  address_required: { status: 409, message: 'Link an e-mail address or phone number first' },
  /** Chat: the frame needs a logged-in session (or the handshake is out of order or too late). */
  not_logged_in: { status: 401, message: 'Not logged in' },
  /** Chat: this session frame's counter was seen before (a replay), or is too far behind (see PROTOCOL.md). */
  replayed: { status: 409, message: 'Frame already seen' },
  /** Chat: the login did not prove possession of the identity's key, or the identity is not active. */
  login_failed: { status: 401, message: 'Login failed' },
  /** Chat: a recipient is unknown, revoked or deleted; nothing was stored. */
  unknown_recipient: { status: 404, message: 'Unknown recipient' },
  /** Chat: a recipient's mailbox is full; nothing was stored. */
  mailbox_full: { status: 507, message: 'Recipient mailbox full' },
  /**
   * Media: the uploader's blobs in flight (granted uploads not yet deleted) would exceed its quota;
   * nothing was granted. Its own `blobDone` on a blob it uploaded frees the room at once.
   */
  quota_exceeded: { status: 507, message: 'Media quota exceeded' },
  /** Push: the identity has LIMITS.pushTargetsPerIdentity push targets already; remove one first. */
  too_many_targets: { status: 409, message: 'Too many push targets' },
  /** The deployment has this feature turned off. */
  not_supported: { status: 501, message: 'Not supported by this server' },
  /** Too many requests; retry later. */
  rate_limited: { status: 429, message: 'Too many requests' },
  /** A dependency (database, object store) failed; the request changed nothing it reports. */
  unavailable: { status: 503, message: 'Service temporarily unavailable' },
  /** Anything unexpected. Never exposes details. */
  internal: { status: 500, message: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code, an HTTP status and whether its message may be shown to a client. */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: ErrorCode, options: { cause?: unknown; expose?: boolean } = {}) {
    super(ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    // Every code is documented and names nothing, so each may be shown, whatever its status
    // (`mailbox_full` 507, `not_supported` 501, `unavailable` 503 tell the client what to do); only
    // `internal`, the answer to the unexpected, and errors made with `expose: false` are not.
    this.expose = options.expose ?? code !== 'internal';
  }
}

/** Any thrown value as a SwitchyardError: ours stay as they are, everything else is `internal`. */
export function asSwitchyardError(error: unknown): SwitchyardError {
  return error instanceof SwitchyardError ? error : new SwitchyardError('internal', { cause: error });
}
