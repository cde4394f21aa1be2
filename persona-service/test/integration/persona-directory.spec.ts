import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata } from '@grpc/grpc-js';
import { personaPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  loadConfig,
  newId,
  type EventBus,
} from '@picard/service-kit';
import {
  openTestDatabase,
  openTestEventBus,
  testLogger,
  uniqueSchema,
  type TestDatabase,
  withInternalKey,
  testTokens,
} from '@picard/service-kit/testing';
import { personaConfigSchema, startPersonaService, type PersonaServiceHandle } from '../../src/index.js';

const READ_WRITE = ['memories:read', 'memories:write'];

/** The directory (ListPersonas) and the `listed` flag behind it, over gRPC against a real database. */
describe('persona-service: the persona directory', () => {
  const schema = uniqueSchema('persona');
  let db: TestDatabase;
  let bus: EventBus;
  let handle: PersonaServiceHandle;
  let client: personaPb.PersonaServiceClient;

  beforeAll(async () => {
    db = await openTestDatabase();
    bus = await openTestEventBus('persona-directory-test');
    handle = await startPersonaService({
      config: loadConfig(personaConfigSchema, withInternalKey({ MEMORY_GRPC_ADDR: '127.0.0.1:1' })),
      database: db.target,
      schema,
      bus,
      logger: testLogger(),
      grpcHost: '127.0.0.1',
      grpcPort: 0,
    });
    client = createGrpcClient(personaPb.PersonaServiceClient, handle.grpc.address, testTokens());
  });

  afterAll(async () => {
    client?.close();
    await handle?.stop();
    await bus?.close();
    await db?.cleanup(schema);
  });

  const as = (userId: string, scopes = READ_WRITE) => callerMetadata({ userId, scopes, clientId: newId() });
  const reader = () => as(newId(), ['memories:read']);
  const update = (userId: string, patch: Partial<personaPb.UpdatePersonaRequest>) =>
    callUnary(client.updatePersona.bind(client), { tags: [], replaceTags: false, ...patch }, as(userId));
  const get = (userId: string) => callUnary(client.getPersona.bind(client), { userId }, reader());
  const list = (req: Partial<personaPb.ListPersonasRequest> = {}, md: Metadata = reader()) =>
    callUnary(client.listPersonas.bind(client), { query: '', limit: 0, cursor: '', ...req }, md);
  /** A persona saved with this display name, listed or not; returns its user id. */
  const persona = async (displayName: string, listed: boolean) => {
    const userId = newId();
    await update(userId, { displayName, listed });
    return userId;
  };
  /** Every page of a listing from req.cursor on, following next_cursor. */
  const allPages = async (req: Partial<personaPb.ListPersonasRequest>) => {
    const pages: personaPb.Persona[][] = [];
    let cursor = req.cursor ?? '';
    do {
      const page = await list({ ...req, cursor });
      pages.push(page.personas);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 100);
    return pages;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: unknown) => err as DomainError,
    );
  const byNameThenId = (a: personaPb.Persona, b: personaPb.Persona) =>
    a.displayName === b.displayName ? (a.userId < b.userId ? -1 : 1) : a.displayName < b.displayName ? -1 : 1;

  // One family of names per test, found with `query`, so the tests do not see each other's rows.
  it('lists only personas whose owner set listed; listed is off by default and kept by other updates', async () => {
    const shown = await persona('Orchid Shown', true);
    const hidden = await persona('Orchid Hidden', false);
    const neverSet = newId();
    await update(neverSet, { displayName: 'Orchid Default' });
    const withdrawn = await persona('Orchid Withdrawn', true);
    await update(withdrawn, { listed: false });

    expect((await get(neverSet)).listed).toBe(false);
    expect((await get(newId())).listed).toBe(false);
    // A later update that does not mention `listed` leaves it as it is.
    expect(await update(shown, { description: 'still listed' })).toMatchObject({ listed: true });

    const page = await list({ query: 'orchid' });
    expect(page.personas.map((p) => p.userId)).toEqual([shown]);
    expect(page.personas[0]).toMatchObject({
      displayName: 'Orchid Shown',
      description: 'still listed',
      listed: true,
    });
    expect(page.nextCursor).toBe('');
    for (const id of [hidden, neverSet, withdrawn]) {
      expect(JSON.stringify(page)).not.toContain(id);
    }
  });

  it('searches display names by case-insensitive substring, taking %, _ and \\ literally', async () => {
    const names = [
      'Pelican Ada',
      'pelican LADA',
      'Pelican Bob',
      'Pelican 100% sure',
      'Pelican 1000 sure',
      'Pelican a_b',
      'Pelican axb',
      'Pelican back\\slash',
      'Pelican backslash',
    ];
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, await persona(name, true));
    const found = async (query: string) =>
      (await list({ query, limit: 100 })).personas.map((p) => p.displayName).sort();

    expect(await found('ADA')).toEqual(['Pelican Ada', 'pelican LADA']);
    expect(await found('  ada  ')).toEqual(['Pelican Ada', 'pelican LADA']);
    expect(await found('100%')).toEqual(['Pelican 100% sure']);
    expect(await found('%')).toEqual(['Pelican 100% sure']);
    expect(await found('a_b')).toEqual(['Pelican a_b']);
    expect(await found('back\\s')).toEqual(['Pelican back\\slash']);
    expect(await found('pelican zebra')).toEqual([]);
    expect(await found('pelican')).toEqual([...names].sort());
  });

  it('pages in (display_name, user_id) order without gaps or duplicates, ties included', async () => {
    // 25 personas on 9 names, so several pages end in the middle of a run of equal names.
    const made: string[] = [];
    for (let i = 0; i < 25; i += 1)
      made.push(await persona(`Quokka ${String(i % 9).padStart(2, '0')}`, true));
    await persona('Quokka 04 unlisted', false);

    const whole = (await list({ query: 'quokka', limit: 100 })).personas;
    expect(whole).toHaveLength(25);
    expect(whole.map((p) => p.userId).sort()).toEqual([...made].sort());
    expect([...whole].sort(byNameThenId)).toEqual(whole);

    for (const limit of [1, 4, 7, 25]) {
      const pages = await allPages({ query: 'quokka', limit });
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.flat()).toEqual(whole);
    }
    // The default page is 20.
    const first = await list({ query: 'quokka' });
    expect(first.personas).toEqual(whole.slice(0, 20));
    expect(first.nextCursor).not.toBe('');
  });

  it('keeps paging consistent when personas are listed between two pages', async () => {
    for (let i = 0; i < 6; i += 1) await persona(`Raven ${i}`, true);
    const first = await list({ query: 'raven', limit: 3 });
    expect(first.personas.map((p) => p.displayName)).toEqual(['Raven 0', 'Raven 1', 'Raven 2']);
    // One before the cursor (already passed: not seen again) and one after it (seen on the next page).
    await persona('Raven 1a', true);
    await persona('Raven 4a', true);
    const rest = await allPages({ query: 'raven', limit: 3, cursor: first.nextCursor });
    const names = rest.flat().map((p) => p.displayName);
    expect(names).toEqual(['Raven 3', 'Raven 4', 'Raven 4a', 'Raven 5']);
  });

  it('refuses a bad cursor, limit or query, naming the field', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const cases: [string, Partial<personaPb.ListPersonasRequest>][] = [
      ['cursor', { cursor: 'not-a-cursor' }],
      ['cursor', { cursor: b64({ n: 'Raven 1' }) }],
      ['cursor', { cursor: b64({ n: 'Raven 1', u: 'not-a-uuid' }) }],
      ['cursor', { cursor: b64({ n: 7, u: newId() }) }],
      ['cursor', { cursor: b64(['Raven', newId()]) }],
      ['limit', { limit: -1 }],
      ['limit', { limit: 101 }],
      ['query', { query: 'q'.repeat(101) }],
      ['query', { query: 'nul\u0000byte' }],
    ];
    for (const [field, req] of cases) {
      const err = await failure(list(req));
      expect(err).toBeInstanceOf(DomainError);
      expect({ req, code: err.code, field: err.field }).toEqual({ req, code: 'invalid_argument', field });
    }
    // The bounds themselves are fine.
    await expect(list({ limit: 100, query: 'é'.repeat(100) })).resolves.toMatchObject({ personas: [] });
  });

  it('needs a caller identity and the read scope, like GetPersona', async () => {
    expect((await failure(list({}, new Metadata()))).code).toBe('unauthenticated');
    expect((await failure(list({}, as(newId(), ['memories:write'])))).code).toBe('permission_denied');
    const tern = await persona('Tern', true);
    const page = await list({ query: 'tern' }, as(newId(), ['memories:read']));
    expect(page.personas.map((p) => p.userId)).toEqual([tern]);
  });

  it('lets only the owner change listed, through their own UpdatePersona', async () => {
    const owner = await persona('Sparrow Owner', false);
    const other = newId();
    // UpdatePersona has no user id: another caller's update changes their own persona only.
    await callUnary(
      client.updatePersona.bind(client),
      { tags: [], replaceTags: false, listed: true },
      as(other),
    );
    expect((await get(owner)).listed).toBe(false);
    const readOnly = await failure(
      callUnary(client.updatePersona.bind(client), { tags: [], replaceTags: false, listed: true }, reader()),
    );
    expect(readOnly.code).toBe('permission_denied');
    expect((await list({ query: 'sparrow' })).personas).toEqual([]);
  });
});
