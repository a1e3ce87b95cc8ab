/**
 * One builder per function in the manifest: handler factory + the shared observe wrapper. The AWS
 * entry files call exactly one builder each; the local runner calls all of them with the same
 * Deps shape, pointed at its own endpoints. esbuild keeps only the builder an entry imports.
 */

import type { HttpHandler, WsHandler } from '../../contract/events.ts';
import type { FunctionName } from '../../contract/manifest.ts';
import { makeDirectoryHandler } from '../handlers/directory.ts';
import { makeSafeHandler } from '../handlers/safe.ts';
import {
  makeAckHandler,
  makeHelloHandler,
  makeLoginHandler,
  makePullHandler,
  makeSendHandler,
} from '../handlers/ws-chat.ts';
import { makeConnectHandler } from '../handlers/ws-connect.ts';
import { makeDefaultHandler } from '../handlers/ws-default.ts';
import { makeDisconnectHandler } from '../handlers/ws-disconnect.ts';
import type { Deps } from './deps.ts';
import { observeHttp, observeSchedule, observeWs } from './observe.ts';

export const buildWsConnect = (deps: Deps): WsHandler => observeWs(deps, makeConnectHandler(deps));
export const buildWsDisconnect = (deps: Deps): WsHandler => observeWs(deps, makeDisconnectHandler(deps));
export const buildWsDefault = (deps: Deps): WsHandler => observeWs(deps, makeDefaultHandler());
export const buildWsHello = (deps: Deps): WsHandler => observeWs(deps, makeHelloHandler(deps));
export const buildWsLogin = (deps: Deps): WsHandler => observeWs(deps, makeLoginHandler(deps));
export const buildWsSend = (deps: Deps): WsHandler => observeWs(deps, makeSendHandler(deps));
export const buildWsAck = (deps: Deps): WsHandler => observeWs(deps, makeAckHandler(deps));
export const buildWsPull = (deps: Deps): WsHandler => observeWs(deps, makePullHandler(deps));
export const buildReaper = (deps: Deps): (() => Promise<void>) =>
  observeSchedule(deps, 'reaper', () => deps.chat.reapUnauthenticated());
export const buildSafe = (deps: Deps): HttpHandler => observeHttp(deps, makeSafeHandler(deps));
export const buildDirectory = (deps: Deps): HttpHandler => observeHttp(deps, makeDirectoryHandler(deps));

export type Built =
  | { readonly kind: 'ws'; readonly handler: WsHandler }
  | { readonly kind: 'http'; readonly handler: HttpHandler }
  | { readonly kind: 'schedule'; readonly handler: () => Promise<void> };

/** Every function's handler, for the local runner. */
export function composeAll(deps: Deps): Record<FunctionName, Built> {
  return {
    wsConnect: { kind: 'ws', handler: buildWsConnect(deps) },
    wsDisconnect: { kind: 'ws', handler: buildWsDisconnect(deps) },
    wsDefault: { kind: 'ws', handler: buildWsDefault(deps) },
    wsHello: { kind: 'ws', handler: buildWsHello(deps) },
    wsLogin: { kind: 'ws', handler: buildWsLogin(deps) },
    wsSend: { kind: 'ws', handler: buildWsSend(deps) },
    wsAck: { kind: 'ws', handler: buildWsAck(deps) },
    wsPull: { kind: 'ws', handler: buildWsPull(deps) },
    reaper: { kind: 'schedule', handler: buildReaper(deps) },
    safe: { kind: 'http', handler: buildSafe(deps) },
    directory: { kind: 'http', handler: buildDirectory(deps) },
  };
}
