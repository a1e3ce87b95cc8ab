/**
 * Stand-ins for the push providers, real servers on 127.0.0.1 that check what a real provider
 * checks, written from the RFCs and the providers' documentation (not from the server's code):
 *
 * - a Web Push service (RFC 8030): verifies the VAPID token (RFC 8292: ES256 over the key in `k`,
 *   audience the service's origin, expiry within 24 h) and decrypts the body with the subscriber's
 *   keys (RFC 8291 / RFC 8188 aes128gcm), as a browser's push service and the browser do;
 * - FCM (HTTP v1): the OAuth 2.0 JWT bearer grant at the service account's `token_uri` (RS256,
 *   scope, audience), then `messages:send` with the access token and a data-only message;
 * - APNs over HTTP/2 (h2c here: TLS would need a certificate): the provider token (ES256, `kid`,
 *   `iss` team), background push headers and body.
 *
 * Each answers 2xx, or "gone" (410 / 404 UNREGISTERED) for addresses marked gone, or fails (500) or
 * hangs for addresses marked so.
 */
import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { MAILBOX } from '../../contract/schema.ts';
import type { TestRunner } from './runner.ts';

export type Behaviour = 'ok' | 'gone' | 'fail' | 'hang';

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** Verifies a compact JWS; returns header and claims, or throws saying what is wrong. */
export function verifyJwt(token: string, key: KeyObject, alg: 'ES256' | 'RS256') {
  const [header, claims, signature] = token.split('.');
  if (!header || !claims || !signature) throw new Error('not a JWS');
  const parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  if (parsedHeader.alg !== alg) throw new Error('wrong alg');
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) throw new Error('bad signature');
  return {
    header: parsedHeader,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function listen(server: Server | Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// ─── Web Push ───────────────────────────────────────────────────────────────────────────────────

/** A browser's side of a subscription: its keys, and the endpoint the push service gave it. */
export interface Subscriber {
  readonly endpoint: string;
  readonly p256dh: string;
  readonly auth: string;
  readonly privateKey: Buffer;
  readonly publicKey: Buffer;
  readonly authSecret: Buffer;
}

export interface WebPushDelivery {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** The decrypted plaintext (RFC 8291), or the reason it could not be decrypted or authorised. */
  readonly plaintext?: string;
  readonly problem?: string;
}

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8291 §3.4 on the receiving side (the browser): body → plaintext. */
export function decryptWebPush(body: Buffer, subscriber: Subscriber): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20] ?? 0;
  const serverKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(subscriber.privateKey);
  const secret = ecdh.computeSecret(serverKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), subscriber.publicKey, serverKey]);
  const ikm = hmac(hmac(subscriber.authSecret, secret), Buffer.concat([keyInfo, Buffer.of(1)]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('no last-record delimiter');
  return padded.subarray(0, end).toString('utf8');
}

export async function startWebPushService() {
  const deliveries: WebPushDelivery[] = [];
  const subscribers = new Map<string, Subscriber>();
  const behaviour = new Map<string, Behaviour>();
  const hanging: Array<() => void> = [];
  let origin = '';
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? '';
    const subscriber = subscribers.get(path);
    let plaintext: string | undefined;
    let problem: string | undefined;
    try {
      if (request.method !== 'POST' || !subscriber) throw new Error('no such subscription');
      const authorization = String(request.headers.authorization ?? '');
      const match = /^vapid t=([^,\s]+), k=([A-Za-z0-9_-]+)$/.exec(authorization);
      if (!match?.[1] || !match[2]) throw new Error('no VAPID authorization');
      const point = Buffer.from(match[2], 'base64url');
      const key = createPublicKey({
        format: 'jwk',
        key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
      });
      const { claims } = verifyJwt(match[1], key, 'ES256');
      const now = Date.now() / 1000;
      if (claims.aud !== origin) throw new Error('wrong audience');
      if (typeof claims.exp !== 'number' || claims.exp < now || claims.exp > now + 24 * 3600)
        throw new Error('bad expiry');
      if (request.headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
      if (!/^[0-9]+$/.test(String(request.headers.ttl ?? ''))) throw new Error('no TTL');
      plaintext = decryptWebPush(body, subscriber);
    } catch (error) {
      problem = (error as Error).message;
    }
    deliveries.push({
      path,
      headers: request.headers,
      body,
      ...(plaintext !== undefined ? { plaintext } : {}),
      ...(problem ? { problem } : {}),
    });
    const what = behaviour.get(path) ?? 'ok';
    if (problem) response.writeHead(problem === 'no such subscription' ? 404 : 400).end();
    else if (what === 'hang') hanging.push(() => response.writeHead(201).end());
    else response.writeHead(what === 'gone' ? 410 : what === 'fail' ? 500 : 201).end();
  });
  origin = await listen(server);
  return {
    origin,
    deliveries,
    /** A new subscription, as a browser's PushManager.subscribe would give it. */
    subscribe(): Subscriber {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const authSecret = randomBytes(16);
      const path = `/push/${randomBytes(12).toString('hex')}`;
      const subscriber = {
        endpoint: `${origin}${path}`,
        p256dh: b64url(ecdh.getPublicKey()),
        auth: b64url(authSecret),
        privateKey: ecdh.getPrivateKey(),
        publicKey: ecdh.getPublicKey(),
        authSecret,
      };
      subscribers.set(path, subscriber);
      return subscriber;
    },
    set(subscriber: Subscriber, what: Behaviour) {
      behaviour.set(new URL(subscriber.endpoint).pathname, what);
    },
    to(subscriber: Subscriber) {
      return deliveries.filter((delivery) => delivery.path === new URL(subscriber.endpoint).pathname);
    },
    async stop() {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ─── FCM ────────────────────────────────────────────────────────────────────────────────────────

export interface FcmDelivery {
  readonly project: string;
  readonly body: Record<string, unknown>;
  readonly problem?: string;
}

export async function startFcmStandIn() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const deliveries: FcmDelivery[] = [];
  const grants: Array<{ problem?: string }> = [];
  const behaviour = new Map<string, Behaviour>();
  const accessToken = randomBytes(16).toString('hex');
  let origin = '';
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.url === '/token') {
      let problem: string | undefined;
      try {
        if (request.headers['content-type'] !== 'application/x-www-form-urlencoded')
          throw new Error('not a form');
        const form = new URLSearchParams(body.toString('utf8'));
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
          throw new Error('grant type');
        const { claims } = verifyJwt(form.get('assertion') ?? '', publicKey, 'RS256');
        if (claims.iss !== 'switchyard@test-project.iam.gserviceaccount.com') throw new Error('issuer');
        if (claims.scope !== 'https://www.googleapis.com/auth/firebase.messaging') throw new Error('scope');
        if (claims.aud !== `${origin}/token`) throw new Error('audience');
      } catch (error) {
        problem = (error as Error).message;
      }
      grants.push(problem ? { problem } : {});
      if (problem)
        return response
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"invalid_grant"}');
      return response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
    }
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(request.url ?? '');
    let parsed: Record<string, unknown> = {};
    let problem: string | undefined;
    try {
      if (!match || request.method !== 'POST') throw new Error('unknown path');
      if (request.headers.authorization !== `Bearer ${accessToken}`) throw new Error('not authorised');
      parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const message = parsed.message as Record<string, unknown> | undefined;
      if (!message || typeof message.token !== 'string') throw new Error('no token');
      if ('notification' in message) throw new Error('not data-only');
    } catch (error) {
      problem = (error as Error).message;
    }
    deliveries.push({ project: match?.[1] ?? '', body: parsed, ...(problem ? { problem } : {}) });
    if (problem) return response.writeHead(problem === 'not authorised' ? 401 : 400).end();
    const token = String((parsed.message as Record<string, unknown>).token);
    const what = behaviour.get(token) ?? 'ok';
    if (what === 'gone')
      return response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            code: 404,
            status: 'NOT_FOUND',
            details: [
              { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' },
            ],
          },
        }),
      );
    if (what === 'fail') return response.writeHead(503).end();
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end('{"name":"projects/test-project/messages/1"}');
  });
  origin = await listen(server);
  return {
    origin,
    deliveries,
    grants,
    /** A service account key file pointing at this stand-in's token endpoint. */
    account: {
      type: 'service_account',
      project_id: 'test-project',
      client_email: 'switchyard@test-project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      token_uri: `${origin}/token`,
    },
    set(token: string, what: Behaviour) {
      behaviour.set(token, what);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ─── APNs ───────────────────────────────────────────────────────────────────────────────────────

export interface ApnsDelivery {
  readonly token: string;
  readonly headers: Record<string, unknown>;
  readonly body: string;
  readonly problem?: string;
}

export async function startApnsStandIn() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const deliveries: ApnsDelivery[] = [];
  const behaviour = new Map<string, Behaviour>();
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const match = /^\/3\/device\/([0-9a-f]+)$/.exec(String(headers[':path'] ?? ''));
      let problem: string | undefined;
      try {
        if (headers[':method'] !== 'POST' || !match) throw new Error('unknown path');
        const bearer = /^bearer (.+)$/.exec(String(headers.authorization ?? ''));
        if (!bearer?.[1]) throw new Error('no provider token');
        const { header, claims } = verifyJwt(bearer[1], publicKey, 'ES256');
        if (header.kid !== 'KEYID12345' || claims.iss !== 'TEAMID1234')
          throw new Error('wrong key id or team');
        if (typeof claims.iat !== 'number' || Math.abs(claims.iat - Date.now() / 1000) > 3600)
          throw new Error('iat');
        if (headers['apns-push-type'] !== 'background' || headers['apns-priority'] !== '5')
          throw new Error('not a background push');
        if (headers['apns-topic'] !== 'org.example.switchyard') throw new Error('wrong topic');
        const aps = (JSON.parse(body) as { aps?: Record<string, unknown> }).aps;
        if (aps?.['content-available'] !== 1 || 'alert' in aps) throw new Error('not content-available');
      } catch (error) {
        problem = (error as Error).message;
      }
      const token = match?.[1] ?? '';
      deliveries.push({ token, headers: { ...headers }, body, ...(problem ? { problem } : {}) });
      const what = problem ? 'bad' : (behaviour.get(token) ?? 'ok');
      const status = what === 'ok' ? 200 : what === 'gone' ? 410 : what === 'bad' ? 403 : 500;
      stream.respond({ ':status': status, 'apns-id': '00000000-0000-0000-0000-000000000000' });
      stream.end(
        status === 410
          ? '{"reason":"Unregistered","timestamp":0}'
          : status === 200
            ? ''
            : '{"reason":"InternalServerError"}',
      );
    });
  });
  const origin = await listen(server);
  return {
    origin,
    deliveries,
    credentials: {
      keyId: 'KEYID12345',
      teamId: 'TEAMID1234',
      topic: 'org.example.switchyard',
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    set(token: string, what: Behaviour) {
      behaviour.set(token, what);
    },
    async stop() {
      // The runner's HTTP/2 session may still be open: close() then waits for it; don't.
      server.close();
    },
  };
}

/** The `#push` item of `identity`'s mailbox partition (its push targets and last wake-up), or undefined. */
export async function pushItem(harness: TestRunner, identity: string) {
  const result = await harness.clients.dynamo.send(
    new GetCommand({
      TableName: harness.runner.tables.mailbox,
      Key: { [MAILBOX.attributes.recipient]: identity, [MAILBOX.attributes.key]: '#push' },
      ConsistentRead: true,
    }),
  );
  return result.Item;
}
