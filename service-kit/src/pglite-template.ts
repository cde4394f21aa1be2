/**
 * Run by service-kit's build: makes the template new embedded databases are unpacked from (see
 * pglite.worker.mjs), so the first `npm start` and every test stack skip initdb.
 */
import { PGliteThread } from './pglite-thread.js';

const db = await PGliteThread.open('memory://');
await db.close();
