/** Paging through a DynamoDB Query or Scan, shared by the adapters. */

type Item = Record<string, unknown>;

/**
 * Yields the items of each page that `fetch` returns, passing the last page's `LastEvaluatedKey` as
 * the next `ExclusiveStartKey` until there is none. Lazy: the next page is only requested when the
 * caller asks for it, so a caller that stops early makes no further request.
 */
export async function* pages(
  fetch: (start: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>,
): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const page = await fetch(start);
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}
