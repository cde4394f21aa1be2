import type { Migration } from '@picard/service-kit';
import { init } from './001_init.js';
import { groupsAndActivity } from './002_groups_activity.js';
import { embeddingState } from './003_embedding_state.js';
import { searchDays } from './004_search_days.js';
import { keywordIndex } from './005_keyword_index.js';
import { listingIndexes } from './006_listing_indexes.js';
import { ownerBoundAad } from './007_owner_bound_aad.js';
import { coveringTermIndex } from './008_covering_term_index.js';
import { importBatches } from './009_import_batches.js';
import { memoryHistory } from './010_memory_history.js';
import { visiblePostings } from './011_visible_postings.js';
import { inlineVectors } from './012_inline_vectors.js';

/** The memory schema's migrations, for a vector column of `dimensions`. */
export const memoryMigrations = (dimensions: number): Migration[] => [
  init(dimensions),
  groupsAndActivity,
  embeddingState,
  searchDays,
  keywordIndex,
  listingIndexes,
  ownerBoundAad,
  coveringTermIndex,
  importBatches,
  memoryHistory,
  visiblePostings,
  inlineVectors,
];
