export { startPersonaService, type PersonaServiceOptions, type PersonaServiceHandle } from './service.js';
export { personaConfigSchema, type PersonaConfig } from './config.js';
