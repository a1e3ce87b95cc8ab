/**
 * What the page is set up with: `config.json` next to it (the local runner serves it; for static
 * hosting it holds the stack outputs), and `?profile=NAME`, which keeps a separate identity so two
 * tabs of one browser can be two people.
 */
import { fromHex } from '../protocol/bytes.ts';

export interface Config {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly safeUrl: string;
  readonly serverPublicKey: Uint8Array;
}

const profile = /^[A-Za-z0-9-]{1,32}$/.exec(new URLSearchParams(location.search).get('profile') ?? '')?.[0];
/** The IndexedDB database of this profile's key store. */
export const DB_NAME = profile ? `switchyard-${profile}` : 'switchyard';
/** The IndexedDB database of this profile's conversations, contacts and settings (./store.ts). */
export const STORE_NAME = `${DB_NAME}-device`;

export async function loadConfig(): Promise<Config> {
  const response = await fetch('config.json', { cache: 'no-store' });
  const json = (await response.json()) as Record<string, unknown>;
  const serverPublicKey = fromHex(String(json.serverPublicKey ?? '').toLowerCase());
  if (!response.ok || serverPublicKey?.length !== 32 || typeof json.httpUrl !== 'string')
    throw new Error('config');
  const httpUrl = new URL(json.httpUrl, location.href).toString();
  return {
    httpUrl,
    wsUrl: String(json.wsUrl),
    safeUrl: typeof json.safeUrl === 'string' ? json.safeUrl : new URL('safe/', httpUrl).toString(),
    serverPublicKey,
  };
}
