/**
 * One query_memory call over REST, as the benchmarks' client processes make it (plain JavaScript:
 * they run without a loader). Throws unless the answer is a full page of `limit` memories.
 * @param {{ url: string, token: string, limit: number }} job
 */
export const restQuery = (job) => async (text) => {
  const res = await fetch(`${job.url}/api/tools/query_memory`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
    body: JSON.stringify({ query: text, limit: job.limit }),
  });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${body.slice(0, 300)}`);
  const found = JSON.parse(body).result.memories.length;
  if (found !== job.limit) throw new Error(`query returned ${found} memories, not ${job.limit}`);
};
