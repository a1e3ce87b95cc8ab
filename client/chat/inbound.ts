/**
 * Incoming messages: the shared key per peer (computed once), opening each box, and spotting
 * duplicates (delivery is at least once: a message pushed and then pulled again arrives twice).
 * Acking is the session's business, and only for what the application accepted.
 */
import { b64, fromB64, MESSAGE_ID_BYTES, NONCE_BYTES } from '../../protocol/chat.ts';
import { boxOpenShared, isSmallOrderKey, sharedKey } from '../../protocol/crypto.ts';
import { ChatError, type ReceivedMessage } from './types.ts';

/** How many delivered message refs are remembered for deduplication. */
const SEEN_MAX = 10_000;

/**
 * Shared keys with peers, from their public keys; a failed lookup is forgotten so it can be retried.
 * A peer key of small order is refused (`bad_request`): nothing is sent to it or accepted from it.
 */
export class PeerKeys {
  private readonly peers = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly publicKeyOf: (identity: string) => Promise<Uint8Array>,
    private readonly secretKey: Uint8Array,
  ) {}

  shared(identity: string): Promise<Uint8Array> {
    let shared = this.peers.get(identity);
    if (!shared) {
      shared = this.publicKeyOf(identity).then((publicKey) => {
        // A small-order key makes the shared key all-zero-derived: anyone could read and forge.
        if (isSmallOrderKey(publicKey))
          throw new ChatError('bad_request', "The contact's public key is unusable (a small-order point).");
        return sharedKey(publicKey, this.secretKey);
      });
      shared.catch(() => this.peers.delete(identity));
      this.peers.set(identity, shared);
    }
    return shared;
  }
}

/** What became of a delivered message: shown to the application, or why not. */
export type Opened =
  | { readonly kind: 'new'; readonly message: ReceivedMessage }
  /** Already accepted by the application on this session (a push and a pull of the same message). */
  | { readonly kind: 'duplicate' }
  /** The box does not open under the claimed sender's key: forged or damaged. */
  | { readonly kind: 'unreadable' };

export class Inbound {
  private readonly seen = new Set<string>();

  constructor(private readonly peers: PeerKeys) {}

  /**
   * Opens a delivered message. Throws when the sender's key cannot be had (e.g. the directory is
   * unreachable): the message must then stay on the server, to be opened at a later delivery.
   */
  async open(message: Record<string, unknown>): Promise<Opened> {
    const sender = String(message.sender);
    const id = fromB64(message.id, MESSAGE_ID_BYTES);
    if (this.seen.has(refOf(sender, id))) return { kind: 'duplicate' };
    const shared = await this.peers.shared(sender);
    let body: Uint8Array;
    try {
      body = boxOpenShared(fromB64(message.box), fromB64(message.nonce, NONCE_BYTES), shared);
    } catch {
      return { kind: 'unreadable' };
    }
    return {
      kind: 'new',
      message: { sender, id, flags: Number(message.flags), body, sentAt: Number(message.sentAt) },
    };
  }

  /** Remembers a message the application accepted, so a second delivery is acked and not shown. */
  accepted(message: ReceivedMessage): void {
    this.seen.add(refOf(message.sender, message.id));
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
  }
}

function refOf(sender: string, id: Uint8Array): string {
  return `${sender}:${b64(id)}`;
}
