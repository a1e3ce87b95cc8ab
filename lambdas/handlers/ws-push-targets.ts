/**
 * The push target routes (`pushTargetAdd`, `pushTargetRemove`, `pushTargetList`): session frames on
 * the chat socket, so only the logged-in owner touches its own targets. Each answer echoes the
 * request's `id`: `pushTargets` with the whole list (and the VAPID key a browser subscribes with),
 * or `pushTargetError` {id, code}, in which case nothing changed.
 */
import type { WsHandler } from '../../contract/events.ts';
import { asSwitchyardError, SwitchyardError } from '../../protocol/errors.ts';
import { requestIdOf } from '../../protocol/media.ts';
import {
  encodePushTargetView,
  PUSH_TARGET_ACTIONS,
  PUSH_TARGETS_ERROR,
  PUSH_TARGETS_REPLY,
  type PushKind,
  type PushTargetAction,
  parsePushTargetRequest,
} from '../../protocol/push-targets.ts';
import type { PushTargets } from '../domain/wakeups.ts';
import { type ChatHandlerDeps, sessionRoute } from './ws-chat.ts';

export interface PushTargetHandlerDeps extends ChatHandlerDeps {
  readonly pushTargets: PushTargets;
  /** The VAPID public key (base64url), read on first use. */
  readonly vapidKey: () => Promise<string>;
  readonly kinds: readonly PushKind[];
  /** Endpoints on loopback hosts, `http:` too (the local runner only). */
  readonly allowLoopback: boolean;
}

function route(deps: PushTargetHandlerDeps, action: PushTargetAction): WsHandler {
  return sessionRoute(deps, false, async (identity, payload) => {
    const id = requestIdOf(payload);
    try {
      const request = parsePushTargetRequest(action, payload, deps.allowLoopback);
      const targets =
        request.action === 'pushTargetAdd'
          ? await deps.pushTargets.add(identity, request.target)
          : request.action === 'pushTargetRemove'
            ? await deps.pushTargets.remove(identity, request.target)
            : await deps.pushTargets.list(identity);
      return {
        action: PUSH_TARGETS_REPLY,
        payload: {
          id,
          targets: targets.map(encodePushTargetView),
          vapidKey: await deps.vapidKey(),
          kinds: deps.kinds,
        },
      };
    } catch (thrown) {
      const error = asSwitchyardError(thrown);
      if (!error.expose) throw thrown;
      return { action: PUSH_TARGETS_ERROR, payload: { id, code: error.code } };
    }
  });
}

/** One handler for the three routes (one Lambda function), chosen by the event's route key. */
export function makePushTargetHandler(deps: PushTargetHandlerDeps): WsHandler {
  const routes = Object.fromEntries(PUSH_TARGET_ACTIONS.map((action) => [action, route(deps, action)]));
  return (event) => {
    const key = event.requestContext.routeKey;
    const handler = Object.hasOwn(routes, key) ? routes[key] : undefined;
    if (!handler) throw new SwitchyardError('unknown_action');
    return handler(event);
  };
}
