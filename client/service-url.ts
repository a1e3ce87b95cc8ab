/** The base URL of one of the server's HTTP services (`directory/`, `vault/`) under the API base. */

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * `segment` (e.g. `directory/`) under `server`, the HTTP API's base URL. It must be https://, or
 * http:// on localhost; otherwise an Error naming `what` (e.g. "directory").
 */
export function serviceUrl(server: string, segment: string, what: string): URL {
  const url = new URL(server.endsWith('/') ? server : `${server}/`);
  if (url.protocol !== 'https:' && !(LOCAL_HOSTS.includes(url.hostname) && url.protocol === 'http:'))
    throw new Error(`The ${what} URL must use https:// (http:// only for localhost)`);
  return new URL(segment, url);
}
