/**
 * The API Gateway event and result shapes the handlers accept. On AWS, API Gateway builds them;
 * locally, the runner's gateway builds the same shapes from real HTTP requests and WebSocket frames.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  APIGatewayProxyWebsocketEventV2,
} from 'aws-lambda';

/** A WebSocket API event. `$connect` events also carry headers and query parameters. */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
};

/** What a WebSocket route returns. With a route response configured, `body` goes back to the caller. */
export interface WsResult {
  readonly statusCode: number;
  readonly body?: string;
}

/** An HTTP API (payload format 2.0) event. */
export type HttpEvent = APIGatewayProxyEventV2;

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export type WsHandler = (event: WsEvent) => Promise<WsResult>;
export type HttpHandler = (event: HttpEvent) => Promise<HttpResult>;

/** The request body as bytes, whether API Gateway passed it as text or base64. */
export function bodyBytes(event: { body?: string | undefined; isBase64Encoded?: boolean }): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** A WebSocket frame's text (API Gateway passes binary frames base64-encoded). */
export function frameText(event: WsEvent): string {
  return event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
}

/** A DynamoDB stream batch as Lambda delivers it (and the local runner builds it). */
export type { DynamoDBBatchResponse as StreamResult, DynamoDBStreamEvent as StreamEvent } from 'aws-lambda';
