/**
 * POSTs to URLs a client chose (Web Push endpoints), connecting only to public addresses
 * (protocol/addresses.ts): an IP literal is checked before any connection, a DNS name at connect
 * time on the addresses it resolves to, so a name that resolves (or rebinds) into the server's own
 * network is never reached. Loopback only where allowed (the local runner). Redirects are not
 * followed.
 */
import { type LookupAddress, lookup } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressKind, mayReach } from '../../../protocol/addresses.ts';

/** The endpoint is one the server may never reach (an address literal, a scheme): nothing was sent. */
export class UnreachableEndpointError extends Error {
  constructor() {
    super('the endpoint is not on a public address');
    this.name = 'UnreachableEndpointError';
  }
}

/** dns.lookup, keeping only the addresses the server may reach; none left is ENOTFOUND. */
export function publicLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      const reachable = error
        ? []
        : addresses.filter((entry) => {
            const kind = addressKind(entry.address);
            return kind !== undefined && mayReach(kind, allowLoopback);
          });
      const first = reachable[0];
      if (error || !first) {
        const refused = error ?? Object.assign(new Error('no public address'), { code: 'ENOTFOUND' });
        (callback as (error: Error) => void)(refused);
      } else if (options.all) {
        (callback as (error: null, addresses: LookupAddress[]) => void)(null, reachable);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

export interface GuardedPost {
  /**
   * POSTs `body` to `url` and resolves with the answer's status once its body is read. Rejects with
   * UnreachableEndpointError, before connecting, when the host is an address literal that is not
   * permitted or the scheme is neither `https:` nor `http:`; with an ENOTFOUND error when a name
   * resolves to no permitted address; and when `timeoutMs` passes first.
   */
  post(
    url: string,
    request: {
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Uint8Array;
      readonly timeoutMs: number;
    },
  ): Promise<number>;
}

/**
 * A poster with connections of its own, kept alive between requests: each pooled connection was
 * made to an address this poster's rule permits, and is never shared with another rule's.
 */
export function guardedPost(allowLoopback: boolean): GuardedPost {
  const connect = { keepAlive: true, lookup: publicLookup(allowLoopback) };
  const https = new HttpsAgent(connect);
  const http = new HttpAgent(connect);
  return {
    post(url, { headers, body, timeoutMs }) {
      const target = new URL(url);
      // A literal is checked here: Node.js connects to one without a lookup.
      const literal = addressKind(target.hostname);
      const scheme = target.protocol === 'https:' || target.protocol === 'http:';
      if (!scheme || (literal !== undefined && !mayReach(literal, allowLoopback)))
        return Promise.reject(new UnreachableEndpointError());
      const [send, agent] = target.protocol === 'https:' ? [httpsRequest, https] : [httpRequest, http];
      return new Promise((resolve, reject) => {
        const request = send(
          target,
          {
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': String(body.byteLength) },
            signal: AbortSignal.timeout(timeoutMs),
          },
          (response) => {
            response.on('error', reject);
            response.on('end', () => resolve(response.statusCode ?? 0));
            response.resume();
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    },
  };
}
