/**
 * Small-order X25519 public keys (issue 15): any secret key times such a point gives the all-zero
 * shared secret, so a key among them proves no possession and protects nothing. Each of the 14
 * encodings is refused by the public-key parser, the chat hello, the vouch and the shared key.
 */
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { PeerKeys } from '../../client/chat/inbound.ts';
import { ChatError } from '../../client/chat/types.ts';
import { toHex } from '../../protocol/bytes.ts';
import { clientVouch, parseHello, serverExpectedVouch } from '../../protocol/chat.ts';
import { generateKeyPair, isSmallOrderKey, LowOrderKeyError, sharedKey } from '../../protocol/crypto.ts';
import { answerChallenge, expectedResponse } from '../../protocol/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { ensurePublicKey } from '../../protocol/identity.ts';

/** p = 2^255 − 19; u-coordinates as 32 bytes little-endian hex. */
const P = 2n ** 255n - 19n;
const littleEndian = (u: bigint) =>
  Array.from({ length: 32 }, (_, i) => ((u >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join('');
/** libsodium's has_small_order list: 0, 1, the two points of order 8, p − 1, and p, p + 1 (non-canonical). */
const CANONICAL = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
  P,
  P + 1n,
].map(littleEndian);
/** X25519 ignores bit 255: the same seven with it set. */
const SMALL_ORDER = CANONICAL.flatMap((hex) => {
  const high = Buffer.from(hex, 'hex');
  high[31] = high[31]! | 0x80;
  return [hex, high.toString('hex')];
});
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof SwitchyardError ? error.code : String(error);
  }
  return 'accepted';
}

describe('small-order X25519 public keys', () => {
  it('are exactly the points whose X25519 product with any secret key is all zero', () => {
    expect(SMALL_ORDER).toHaveLength(14);
    for (const hex of SMALL_ORDER) {
      for (let round = 0; round < 3; round++) {
        const product = nacl.scalarMult(nacl.randomBytes(32), bytes(hex));
        expect(
          product.every((byte) => byte === 0),
          hex,
        ).toBe(true);
      }
      expect(isSmallOrderKey(bytes(hex)), hex).toBe(true);
    }
  });

  it('are refused by the public-key parser with bad_request (directory registration and challenges)', () => {
    for (const hex of SMALL_ORDER)
      expect(
        codeOf(() => ensurePublicKey(hex)),
        hex,
      ).toBe('bad_request');
    const honest = toHex(generateKeyPair().publicKey);
    expect(toHex(ensurePublicKey(honest))).toBe(honest);
  });

  it('never yield a shared key, a vouch or a directory proof', () => {
    const ours = generateKeyPair();
    for (const hex of SMALL_ORDER) {
      expect(() => sharedKey(bytes(hex), ours.secretKey), hex).toThrow(LowOrderKeyError);
      expect(() =>
        serverExpectedVouch(
          ours.secretKey,
          generateKeyPair().secretKey,
          bytes(hex),
          new Uint8Array(16),
          ours.publicKey,
        ),
      ).toThrow(LowOrderKeyError);
      expect(() =>
        clientVouch(
          ours.secretKey,
          bytes(hex),
          generateKeyPair().publicKey,
          new Uint8Array(16),
          ours.publicKey,
        ),
      ).toThrow(LowOrderKeyError);
      expect(() => expectedResponse(ours.secretKey, bytes(hex), new Uint8Array(32), {})).toThrow(
        LowOrderKeyError,
      );
      expect(() => answerChallenge(ours.secretKey, bytes(hex), new Uint8Array(32), {})).toThrow(
        LowOrderKeyError,
      );
    }
  });

  it('are refused as the temporary key of a chat hello with bad_request', () => {
    const cookie = Buffer.from(nacl.randomBytes(16)).toString('base64');
    for (const hex of SMALL_ORDER) {
      const key = Buffer.from(hex, 'hex').toString('base64');
      expect(
        codeOf(() => parseHello({ key, cookie })),
        hex,
      ).toBe('bad_request');
    }
    const honest = Buffer.from(generateKeyPair().publicKey).toString('base64');
    expect(codeOf(() => parseHello({ key: honest, cookie }))).toBe('accepted');
  });

  it('are refused by the SDK as a contact key: nothing is sealed to it or opened from it', async () => {
    const ours = generateKeyPair();
    for (const hex of SMALL_ORDER) {
      const peers = new PeerKeys(async () => bytes(hex), ours.secretKey);
      const error = await peers.shared('ABCD1234').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, hex).toBeInstanceOf(ChatError);
      expect((error as ChatError).code).toBe('bad_request');
      expect((error as ChatError).message).not.toContain('ABCD1234');
    }
  });

  it('leaves honest keys alone: the shared key is still NaCl crypto_box_beforenm', () => {
    for (let round = 0; round < 20; round++) {
      const a = generateKeyPair();
      const b = generateKeyPair();
      expect(isSmallOrderKey(a.publicKey)).toBe(false);
      expect(toHex(sharedKey(a.publicKey, b.secretKey))).toBe(
        toHex(nacl.box.before(a.publicKey, b.secretKey)),
      );
      expect(toHex(sharedKey(a.publicKey, b.secretKey))).toBe(toHex(sharedKey(b.publicKey, a.secretKey)));
    }
  });
});
