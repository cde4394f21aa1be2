import { z } from './zod.js';

export const memoriesByPermissionSchema = z
  .object({ private: z.number().int(), public: z.number().int(), shared: z.number().int() })
  .describe('Live (unexpired) memories by permission.');

export const byPermission = (m: Record<string, number>) => ({
  private: Number(m.private ?? 0),
  public: Number(m.public ?? 0),
  shared: Number(m.shared ?? 0),
});

export const activitySchema = z
  .object({
    user_id: z.uuid(),
    memories_by_permission: memoriesByPermissionSchema,
    searches: z.number().int().describe('Searches made (query_memory).'),
    last_activity: z.iso.datetime({ offset: true }).nullable(),
    searches_by_day: z
      .array(
        z.object({
          date: z.iso.date().describe('A UTC calendar day, YYYY-MM-DD.'),
          count: z.number().int().describe('Searches made that day.'),
        }),
      )
      .describe(
        'Searches per UTC day over the last 30 days, today included, oldest first; days without searches have count 0.',
      ),
  })
  .openapi('Activity');

export const adminSummarySchema = z
  .object({
    users: z.number().int().describe('Users with any memory or activity.'),
    memories: z.number().int(),
    memories_by_permission: memoriesByPermissionSchema,
    searches: z.number().int(),
  })
  .openapi('AdminSummary');
