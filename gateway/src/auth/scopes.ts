export const SCOPES = {
  read: 'memories:read',
  write: 'memories:write',
  admin: 'memories:admin',
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];
export const ALL_SCOPES: Scope[] = Object.values(SCOPES);
