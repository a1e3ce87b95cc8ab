/** `@connections` clients, one per API stage endpoint, for functions that push or close connections. */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { type ClientOptions, commonConfig, observed } from './options.ts';

export interface ManagementClients {
  /** The client for one endpoint, created on first use and kept. */
  (endpoint: string): ApiGatewayManagementApiClient;
  /** Releases the clients' sockets. */
  destroy(): void;
}

export function createManagement(options: ClientOptions = {}): ManagementClients {
  const clients = new Map<string, ApiGatewayManagementApiClient>();
  const get = (endpoint: string) => {
    let client = clients.get(endpoint);
    if (!client) {
      client = observed(
        new ApiGatewayManagementApiClient({ ...commonConfig(options), endpoint }),
        'ApiGatewayManagementApi',
        options,
      );
      clients.set(endpoint, client);
    }
    return client;
  };
  return Object.assign(get, {
    destroy() {
      for (const client of clients.values()) client.destroy();
    },
  });
}
