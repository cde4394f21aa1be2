/**
 * `npm start`. Starts the slow, independent work first: the offline embedding model's thread, the
 * data directory's claim, the embedded databases' threads and the web client (early-start.ts).
 * Then it loads and runs the launcher (launcher.ts), whose modules take ~0.7 s to load on this
 * 2-core machine: the model, the databases and the web client get ready meanwhile instead of
 * after. Imports only light modules.
 */
import { DEFAULT_MODEL_NICE, preloadOfflineModel } from '@picard/embedding-service/offline-model';
import { startEarly } from './early-start.js';

// Read before the configuration is validated (that needs the modules this start is not waiting
// for): a bad value stops the start a moment later, with the message naming it.
if ((process.env.EMBEDDING_PROVIDER || 'offline') === 'offline') {
  const nice = Number(process.env.EMBEDDING_OFFLINE_NICE || DEFAULT_MODEL_NICE);
  preloadOfflineModel({
    nice: Number.isInteger(nice) ? nice : DEFAULT_MODEL_NICE,
    blas: process.env.EMBEDDING_OFFLINE_BLAS !== 'off',
  });
}
const early = startEarly(process.env);
const { launch } = await import('./launcher.js');
await launch(early);
