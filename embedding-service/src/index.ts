export {
  startEmbeddingService,
  type EmbeddingServiceOptions,
  type EmbeddingServiceHandle,
} from './service.js';
export { embeddingConfigSchema, type EmbeddingConfig } from './config.js';
export { type EmbeddingProvider } from './providers/embedding-provider.js';
export { preloadOfflineModel } from './providers/offline-use.provider.js';
