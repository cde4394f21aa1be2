import { invalid } from '@picard/service-kit';
import { PERSONA_LIMITS as LIMITS, type personaPb } from '@picard/proto';

/** What a user who never saved a persona gets; `model` null means "the deployment's LLM_MODEL". */
export const PERSONA_DEFAULTS = {
  displayName: '',
  description: '',
  tone: 'friendly',
  tags: [] as string[],
  model: null as string | null,
  temperature: 0.3,
  maxTokens: 512,
  memoryLimit: 10,
  /** Shown in the persona directory (ListPersonas); opt-in. */
  listed: false,
};

/** The model name shown when neither the persona nor the deployment chose one. */
export const OFFLINE_MODEL = 'offline';

export type PersonaPatch = personaPb.UpdatePersonaRequest;
export type StoredSettings = typeof PERSONA_DEFAULTS;

// Counted in code points, as PostgreSQL counts varchar length, so what passes here always fits.
const length = (s: string) => [...s].length;

function text(field: string, value: string, max: number, opts: { blank: boolean }): string {
  // PostgreSQL refuses NUL in text; refusing it here keeps that a 400 instead of a 500.
  if (value.includes('\u0000')) throw invalid(field, `${field} must not contain NUL characters`);
  if (length(value) > max) throw invalid(field, `${field} must be at most ${max} characters`);
  if (!opts.blank && value.trim() === '') throw invalid(field, `${field} must not be blank`);
  return value;
}

function range(field: string, value: number, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw invalid(field, `${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

function normaliseTags(tags: string[]): string[] {
  return tags.map((tag, i) => text(`tags[${i}]`, tag.trim(), LIMITS.tag, { blank: false }));
}

/**
 * Applies a validated patch to the current settings. Every field is checked before anything is
 * returned, so a bad field means no write at all; the error names the field in the API's spelling.
 */
export function applyPatch(
  current: StoredSettings,
  patch: PersonaPatch,
  allowedModels: readonly string[] = [],
): StoredSettings {
  const next = { ...current };
  if (patch.displayName !== undefined) {
    next.displayName = text('display_name', patch.displayName, LIMITS.displayName, { blank: true });
  }
  if (patch.description !== undefined) {
    next.description = text('description', patch.description, LIMITS.description, { blank: true });
  }
  if (patch.tone !== undefined) next.tone = text('tone', patch.tone, LIMITS.tone, { blank: false });
  if (patch.model !== undefined) {
    // An empty model goes back to following the deployment's LLM_MODEL.
    next.model = text('model', patch.model.trim(), LIMITS.model, { blank: true }) || null;
    // Every model is a bill the deployment pays: only the ones the operator listed.
    if (next.model !== null && !allowedModels.includes(next.model)) {
      throw invalid(
        'model',
        allowedModels.length
          ? `model must be one of ${allowedModels.map((m) => `"${m}"`).join(', ')} (or empty for the deployment's default)`
          : 'model must be empty: no language model is configured to choose from',
      );
    }
  }
  if (patch.temperature !== undefined) {
    next.temperature = range(
      'temperature',
      patch.temperature,
      LIMITS.temperature.min,
      LIMITS.temperature.max,
      false,
    );
  }
  if (patch.maxTokens !== undefined) {
    next.maxTokens = range('max_tokens', patch.maxTokens, LIMITS.maxTokens.min, LIMITS.maxTokens.max, true);
  }
  if (patch.memoryLimit !== undefined) {
    next.memoryLimit = range(
      'memory_limit',
      patch.memoryLimit,
      LIMITS.memoryLimit.min,
      LIMITS.memoryLimit.max,
      true,
    );
  }
  if (patch.listed !== undefined) next.listed = patch.listed;
  const tags = normaliseTags(patch.tags);
  if (patch.replaceTags || tags.length) {
    next.tags = [...new Set(patch.replaceTags ? tags : [...current.tags, ...tags])];
    if (next.tags.length > LIMITS.tags) throw invalid('tags', `a persona has at most ${LIMITS.tags} tags`);
  }
  return next;
}
