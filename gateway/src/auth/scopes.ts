export { SCOPES, ALL_SCOPES, type Scope } from '@picard/proto';
