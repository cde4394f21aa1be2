/** The OAuth scopes a token may carry; the gateway and every service check them by these names. */
export const SCOPES = {
  read: 'memories:read',
  write: 'memories:write',
  admin: 'memories:admin',
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];
export const ALL_SCOPES: readonly Scope[] = Object.values(SCOPES);
