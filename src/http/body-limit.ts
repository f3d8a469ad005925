import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';


const tooLarge = () =>
  new GraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
const badLength = () => new GraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

/**
 * The request body limit, for a fraction of the cost of Yoga's built-in one (turned off in app.ts with
 * `maxRequestBodySize: false`). Yoga pipes every body through a TransformStream to count its bytes, which
 * costs a stream pipeline, an AbortController and a DOMException per request: about a tenth of the time
 * of a small query (see `npm run bench`, BENCH_PROFILE=1). Node's HTTP parser never delivers more body
 * than Content-Length declares, so a request that declares its length needs only the header checked;
 * only a chunked body, which declares nothing, is counted as it arrives.
 */
export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // One non-negative integer only: "10, 10" and the like are request-smuggling attempts.
        if (!/^\d+$/.test(declared)) throw badLength();
        if (Number(declared) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser(async (chunked) => {
        const body = await readAtMost(chunked, limit);
        return requestParser(new fetchAPI.Request(chunked.url, { method: chunked.method, headers: chunked.headers, body }));
      });
    },
  };
}

async function readAtMost(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      const body = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      return body;
    }
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
}
