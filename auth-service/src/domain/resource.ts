/**
 * The resources (RFC 8707) a token may be bound to: the gateway itself, or its MCP endpoint.
 * Compared without a trailing slash, since clients spell the canonical URI either way.
 */
export const trimSlash = (u: string) => u.replace(/\/+$/, '');

export function allowedResources(issuer: string): string[] {
  const base = trimSlash(issuer);
  return [base, `${base}/mcp`];
}

/** The canonical resource when allowed (as registered, no trailing slash), else undefined. */
export function matchResource(issuer: string, resource: string): string | undefined {
  const wanted = trimSlash(resource);
  return allowedResources(issuer).find((r) => r === wanted);
}
