/**
 * Incoming messages: the shared key per peer (computed once), opening each box, and dropping
 * duplicates (delivery is at least once: a message pushed and then pulled again arrives twice).
 */
import { b64, FLAGS, fromB64, MESSAGE_ID_BYTES, NONCE_BYTES } from '../../protocol/chat.ts';
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

export class Inbound {
  private readonly seen = new Set<string>();

  constructor(
    private readonly peers: PeerKeys,
    /** Called for every delivery that needs an ack (all but no-queue messages), duplicates included. */
    private readonly ack: (sender: string, id: string) => void,
  ) {}

  /** Opens a delivered message; undefined for a duplicate or a box that does not open. */
  async open(message: Record<string, unknown>): Promise<ReceivedMessage | undefined> {
    const sender = String(message.sender);
    const id = fromB64(message.id, MESSAGE_ID_BYTES);
    const flags = Number(message.flags);
    const ref = `${sender}:${b64(id)}`;
    if (!(flags & FLAGS.noQueue)) this.ack(sender, b64(id));
    if (this.seen.has(ref)) return undefined;
    let body: Uint8Array;
    try {
      body = boxOpenShared(
        fromB64(message.box),
        fromB64(message.nonce, NONCE_BYTES),
        await this.peers.shared(sender),
      );
    } catch {
      return undefined; // Not from whom it claims, or damaged: acked (so it goes away) but not shown.
    }
    this.seen.add(ref);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
    return { sender, id, flags, body, sentAt: Number(message.sentAt) };
  }
}
