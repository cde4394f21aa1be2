export { startMemoryService, type MemoryServiceOptions, type MemoryServiceHandle } from './service.js';
export { memoryConfigSchema, type MemoryConfig, type EncryptionKey } from './config.js';
