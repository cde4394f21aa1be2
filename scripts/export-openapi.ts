/**
 * Writes the gateway's OpenAPI document to client-app/contract/, where the web client generates
 * its types from it: the client-app stays a third-party application that knows Picard only by its
 * published API, yet cannot drift from it (CI regenerates and compares, and lints it: npm run
 * lint-openapi).
 */
import { writeFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '@picard/gateway';

const out = new URL('../client-app/contract/picard-openapi.json', import.meta.url);
// No deployment's address: a relative server URL means "where this document is served from",
// which is what each gateway's own /openapi.json says with its PUBLIC_URL.
const doc = buildOpenApiDocument('/');
await writeFile(out, JSON.stringify(doc, null, 2) + '\n');
process.stdout.write(`wrote ${out.pathname}\n`);
