/** Run by client-app's build: the template new embedded databases are unpacked from (pglite-template.ts). */
import { makeTemplate } from './pglite-template.js';

await makeTemplate();
