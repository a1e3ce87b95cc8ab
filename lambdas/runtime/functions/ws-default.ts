/** `wsDefault` ($default: actions without a route of their own): no table, no AWS client. */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { makeDefaultHandler } from '../../handlers/ws-default.ts';
import type { RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import type { Base } from './shared.ts';

export function composeWsDefault(_config: RuntimeConfig, _clients: object, base: Base) {
  return middy(makeDefaultHandler()).use(wsStack(base, LIMITS.wsMessageBytes));
}
