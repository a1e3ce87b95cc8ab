/**
 * A `fetch` for the media SDK's uploads in a browser. The SDK streams the encrypted upload as a
 * request body (fine in Node), but browsers send a streamed body only over HTTP/2 or QUIC, and
 * S3's presigned POST (like the local runner) speaks HTTP/1.1; nor does fetch report upload
 * progress. So the encrypted body is collected into a Blob (the page holds the file in memory
 * anyway) and sent with XMLHttpRequest, whose upload events drive the progress bar.
 */

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function uploadFetch(onProgress: (done: number, total: number) => void): typeof fetch {
  return async (input, init = {}) => {
    const body = init.body instanceof ReadableStream ? await new Response(init.body).blob() : init.body;
    return new Promise<Response>((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(init.method ?? 'GET', input instanceof Request ? input.url : String(input));
      // The browser sets content-length itself (and refuses a script's).
      new Headers(init.headers).forEach((value, name) => {
        if (name !== 'content-length') request.setRequestHeader(name, value);
      });
      request.responseType = 'arraybuffer';
      request.upload.onprogress = (event) => onProgress(event.loaded, event.total);
      request.onload = () =>
        resolve(
          new Response(NULL_BODY.has(request.status) ? null : request.response, { status: request.status }),
        );
      request.onerror = () => reject(new TypeError('The upload did not reach the storage.'));
      request.send((body ?? null) as XMLHttpRequestBodyInit | null);
    });
  };
}
