/**
 * The media blob routes (`blobUpload`, `blobDownload`, `blobDone`): session frames on the chat
 * socket, opened and answered with the connection's session key like `send`. Each answer echoes the
 * request's `id`: `blob` with the presigned URL (or the outcome), `blobError` {id, code} when
 * refused, in which case nothing changed. No blob byte passes through here.
 */
import type { WsHandler } from '../../contract/events.ts';
import { asSwitchyardError, SwitchyardError } from '../../protocol/errors.ts';
import {
  BLOB_ERROR,
  BLOB_REPLY,
  type BlobAction,
  parseBlobRef,
  parseBlobUpload,
  requestIdOf,
} from '../../protocol/media.ts';
import type { Media } from '../domain/media.ts';
import { type ChatHandlerDeps, type SessionWork, sessionRoute } from './ws-chat.ts';

export interface MediaHandlerDeps extends ChatHandlerDeps {
  readonly media: Media;
  readonly maxBlobBytes: number;
}

type Work = (...args: Parameters<SessionWork>) => Promise<Record<string, unknown>>;

/** Answers `blob` with the work's result, or `blobError` with an exposed refusal's code. */
function blobRoute(deps: MediaHandlerDeps, work: Work): WsHandler {
  return sessionRoute(deps, false, async (identity, payload, connectionId) => {
    const id = requestIdOf(payload);
    try {
      return { action: BLOB_REPLY, payload: { id, ...(await work(identity, payload, connectionId)) } };
    } catch (thrown) {
      const error = asSwitchyardError(thrown);
      if (!error.expose) throw thrown;
      return { action: BLOB_ERROR, payload: { id, code: error.code } };
    }
  });
}

/** One handler for the three routes (one Lambda function), chosen by the event's route key. */
export function makeBlobHandler(deps: MediaHandlerDeps): WsHandler {
  const routes: Record<BlobAction, WsHandler> = {
    blobUpload: blobRoute(deps, async (identity, payload) => {
      const request = parseBlobUpload(payload, deps.maxBlobBytes);
      return { ...(await deps.media.upload(identity, request)) };
    }),
    blobDownload: blobRoute(deps, async (identity, payload) => {
      const { blob } = parseBlobRef(payload);
      return { blob, ...(await deps.media.download(identity, blob)) };
    }),
    blobDone: blobRoute(deps, async (identity, payload) => {
      const { blob } = parseBlobRef(payload);
      return { blob, ...(await deps.media.done(identity, blob)) };
    }),
  };
  return (event) => {
    const key = event.requestContext.routeKey;
    if (!Object.hasOwn(routes, key)) throw new SwitchyardError('unknown_action');
    return routes[key as BlobAction](event);
  };
}
