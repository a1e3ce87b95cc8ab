/**
 * Every function's composition, for the local runner (and tests that drive a whole deployment): the
 * same middy handlers the Lambda entry files build, each given the one client set the runner has.
 * Lambda entries never import this file: each imports its own composition only.
 */
import type { Context } from 'aws-lambda';
import type {
  HttpEvent,
  HttpResult,
  StreamEvent,
  StreamResult,
  WsEvent,
  WsResult,
} from '../../../contract/events.ts';
import type { FunctionName } from '../../../contract/manifest.ts';
import type { CodeSender } from '../../domain/directory.ts';
import type { AwsClients } from '../clients.ts';
import type { RuntimeConfig } from '../env.ts';
import { composeDirectory } from './directory.ts';
import { composeHealth } from './health.ts';
import { composeWakeups, composeWsPushTargets } from './push.ts';
import { composeReaper } from './reaper.ts';
import { composeSafe } from './safe.ts';
import type { Base } from './shared.ts';
import { composeVault } from './vault.ts';
import { composeWsAck } from './ws-ack.ts';
import { composeWsBlob } from './ws-blob.ts';
import { composeWsConnect } from './ws-connect.ts';
import { composeWsDefault } from './ws-default.ts';
import { composeWsDisconnect } from './ws-disconnect.ts';
import { composeWsHello } from './ws-hello.ts';
import { composeWsLogin } from './ws-login.ts';
import { composeWsPull } from './ws-pull.ts';
import { composeWsSend } from './ws-send.ts';

/** Locally there is no Lambda context: middy then runs without its early-timeout race. */
const LOCAL_CONTEXT = {} as Context;

export type Built =
  | { readonly kind: 'ws'; readonly handler: (event: WsEvent) => Promise<WsResult> }
  | { readonly kind: 'http'; readonly handler: (event: HttpEvent) => Promise<HttpResult> }
  | { readonly kind: 'schedule'; readonly handler: () => Promise<void> }
  | { readonly kind: 'stream'; readonly handler: (event: StreamEvent) => Promise<StreamResult> };

type Invocable<E, R> = (event: E, context: Context) => Promise<R>;

const ws = (handler: Invocable<WsEvent, WsResult>): Built => ({
  kind: 'ws',
  handler: (event) => handler(event, LOCAL_CONTEXT),
});
const http = (handler: Invocable<HttpEvent, HttpResult>): Built => ({
  kind: 'http',
  handler: (event) => handler(event, LOCAL_CONTEXT),
});

/** Every function's handler, composed from one set of clients. */
export function composeAll(
  config: RuntimeConfig,
  clients: AwsClients,
  base: Base & { readonly codes?: CodeSender },
): Record<FunctionName, Built> {
  const reaper = composeReaper(config, clients, base);
  const composedWakeups = composeWakeups(config, clients, base);
  return {
    wsConnect: ws(composeWsConnect(config, clients, base)),
    wsDisconnect: ws(composeWsDisconnect(config, clients, base)),
    wsDefault: ws(composeWsDefault(config, clients, base)),
    wsHello: ws(composeWsHello(config, clients, base)),
    wsLogin: ws(composeWsLogin(config, clients, base)),
    wsSend: ws(composeWsSend(config, clients, base)),
    wsAck: ws(composeWsAck(config, clients, base)),
    wsPull: ws(composeWsPull(config, clients, base)),
    wsBlob: ws(composeWsBlob(config, clients, base)),
    wsPushTargets: ws(composeWsPushTargets(config, clients, base)),
    wakeups: {
      kind: 'stream',
      handler: (event) => composedWakeups(event, LOCAL_CONTEXT),
    },
    reaper: { kind: 'schedule', handler: async () => void (await reaper(undefined, LOCAL_CONTEXT)) },
    safe: http(composeSafe(config, clients, base)),
    directory: http(composeDirectory(config, clients, base)),
    revoke: http(composeDirectory(config, clients, base)),
    vault: http(composeVault(config, clients, base)),
    health: http(composeHealth(config, clients, base)),
  };
}
