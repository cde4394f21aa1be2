/**
 * Writes the gateway's OpenAPI document to client-app/contract/, where the web client generates
 * its types from it: the client-app stays a third-party application that knows Picard only by its
 * published API, yet cannot drift from it (CI regenerates and compares).
 */
import { writeFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '@picard/gateway';

const out = new URL('../client-app/contract/picard-openapi.json', import.meta.url);
const doc = buildOpenApiDocument('http://localhost:8001');
await writeFile(out, JSON.stringify(doc, null, 2) + '\n');
process.stdout.write(`wrote ${out.pathname}\n`);
