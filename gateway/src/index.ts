export { startGateway, type StartGatewayOptions, type GatewayHandle } from './service.js';
export { gatewayConfigSchema, type GatewayConfig } from './config.js';
export { TOOLS } from './mcp/tools/index.js';
export { buildOpenApiDocument } from './http/openapi.js';
