import type { AuthStore } from '../store/auth.store.js';

export interface CutoffTarget {
  userId?: string;
  /** The client as access tokens name it (publicClientId). */
  clientId?: string;
  familyId?: string;
}

/**
 * Every access token matching the target and issued until now becomes invalid: recorded (so a
 * gateway that starts later still refuses it) and announced with auth.token.cutoff (so running
 * gateways refuse it at once), in the caller's transaction. The row lasts as long as the longest
 * access token it can match.
 */
export async function recordCutoff(tx: AuthStore, accessTtlSeconds: number, p: CutoffTarget): Promise<void> {
  if (!p.userId && !p.clientId && !p.familyId)
    throw new Error('a token cut-off needs a user, client or family');
  const cutoffAt = new Date();
  const expiresAt = new Date(cutoffAt.getTime() + accessTtlSeconds * 1000);
  await tx.tokens.insertCutoff({
    user_id: p.userId ?? null,
    client_id: p.clientId ?? null,
    family_id: p.familyId ?? null,
    cutoff_at: cutoffAt,
    expires_at: expiresAt,
  });
  await tx.enqueue('auth.token.cutoff', {
    ...(p.userId ? { user_id: p.userId } : {}),
    ...(p.clientId ? { client_id: p.clientId } : {}),
    ...(p.familyId ? { family_id: p.familyId } : {}),
    cutoff_at: cutoffAt.toISOString(),
    expires_at: expiresAt.toISOString(),
    occurred_at: cutoffAt.toISOString(),
  });
}
