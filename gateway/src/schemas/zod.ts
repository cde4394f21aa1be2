import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';

// Once, before any schema is built, so every schema can carry OpenAPI metadata.
extendZodWithOpenApi(z);

export { z };
