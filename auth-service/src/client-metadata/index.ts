export { ClientMetadataFetcher, type ClientMetadataFetcherOptions } from './client-metadata-fetcher.js';
export {
  isClientMetadataUrl,
  clientIdUrlProblem,
  MAX_CLIENT_ID_URL_LENGTH,
  type ClientIdUrlOptions,
} from './client-id-url.js';
export { classifyAddress, isAddressAllowed, type AddressClass } from './address-policy.js';
export {
  parseClientMetadataDocument,
  redirectUriProblem,
  type ClientMetadata,
  type ClientMetadataGrantType,
} from './metadata-document.js';
