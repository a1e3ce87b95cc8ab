/**
 * IP address literals, and which of them the server may reach on a client's behalf. A Web Push
 * endpoint is a URL the client chooses, and the server POSTs to it: a stranger must not make the
 * server reach its own network or its cloud's (SSRF), so only public unicast addresses are let
 * through, and loopback only where the server allows it (the local runner).
 *
 * Not public: IPv4 0/8, 10/8, 100.64/10 (shared), 127/8 (loopback), 169.254/16 (link-local, the
 * cloud metadata service), 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15,
 * 198.51.100/24, 203.0.113/24, 224/4 (multicast) and 240/4 (reserved, broadcast); IPv6 everything
 * outside global unicast 2000::/3 (unspecified, loopback, IPv4-mapped and -translated, unique local,
 * link-local, multicast), and inside it Teredo 2001::/32, documentation 2001:db8::/32 and 6to4
 * 2002::/16 (the last two embed IPv4 addresses a relay would reach).
 */

/** What an address literal is: public unicast, loopback, or anything else not to be reached. */
export type AddressKind = 'public' | 'loopback' | 'internal';

/** The four bytes of a dotted-quad IPv4 address in normal form (no leading zeros), else undefined. */
export function ipv4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part))) return undefined;
  const bytes = parts.map(Number);
  return bytes.every((byte) => byte <= 255) ? bytes : undefined;
}

/** 16-bit groups of one side of `::`; an IPv4 tail only where `v4Tail` allows it. */
function ipv6Groups(text: string, v4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
      continue;
    }
    const v4 = v4Tail && index === pieces.length - 1 ? ipv4Bytes(piece) : undefined;
    if (!v4) return undefined;
    groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  }
  return groups;
}

/** The sixteen bytes of an IPv6 address written without brackets or zone, else undefined. */
export function ipv6Bytes(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? ipv6Groups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/** IPv4 networks that are not public unicast: their first three bytes and prefix length. */
const INTERNAL_V4: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 0, 8],
  [10, 0, 0, 8],
  [100, 64, 0, 10],
  [169, 254, 0, 16],
  [172, 16, 0, 12],
  [192, 0, 0, 24],
  [192, 0, 2, 24],
  [192, 88, 99, 24],
  [192, 168, 0, 16],
  [198, 18, 0, 15],
  [198, 51, 100, 24],
  [203, 0, 113, 24],
  [224, 0, 0, 4],
  [240, 0, 0, 4],
];

function inNetwork(bytes: readonly number[], network: readonly number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((network[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

function v4Kind(bytes: readonly number[]): AddressKind {
  if (bytes[0] === 127) return 'loopback';
  const internal = INTERNAL_V4.some(([a, b, c, prefix]) => inNetwork(bytes, [a, b, c, 0], prefix));
  return internal ? 'internal' : 'public';
}

function v6Kind(bytes: readonly number[]): AddressKind {
  if (bytes.slice(0, 15).every((byte) => byte === 0) && bytes[15] === 1) return 'loopback';
  const globalUnicast = inNetwork(bytes, [0x20], 3);
  const excluded =
    inNetwork(bytes, [0x20, 0x01, 0x00, 0x00], 32) ||
    inNetwork(bytes, [0x20, 0x01, 0x0d, 0xb8], 32) ||
    inNetwork(bytes, [0x20, 0x02], 16);
  return globalUnicast && !excluded ? 'public' : 'internal';
}

/**
 * The kind of an IP address literal — dotted-quad IPv4, or IPv6 with or without the brackets a URL
 * puts around it — or undefined when `host` is not one (a DNS name).
 */
export function addressKind(host: string): AddressKind | undefined {
  const v4 = ipv4Bytes(host);
  if (v4) return v4Kind(v4);
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v6 = bare.includes(':') ? ipv6Bytes(bare) : undefined;
  return v6 ? v6Kind(v6) : undefined;
}

/**
 * Whether the server may reach an address of this kind on a client's behalf: a public one always,
 * loopback only where `allowLoopback` (the local runner).
 */
export function mayReach(kind: AddressKind, allowLoopback: boolean): boolean {
  return kind === 'public' || (kind === 'loopback' && allowLoopback);
}
