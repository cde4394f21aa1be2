import fc from 'fast-check';
import type { World } from './world.js';

export type Message = Record<string, unknown>;

export const rpcId = (): fc.Arbitrary<number | string> => fc.oneof(fc.integer({ min: 0 }), fc.uuid());

export const toolCall = (id: number | string, name: unknown, args: unknown): Message => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: args === undefined ? { name } : { name, arguments: args },
});

/**
 * Requests of the rest of the protocol (handshake, listings, resources, prompts, completion,
 * notifications), with parameters from plausible to odd: the MCP SDK validates them, not Picard.
 */
export function protocolMessage(world: World): fc.Arbitrary<Message> {
  const memoryUri = fc.constantFrom(...world.known.memoryIds).map((id) => `memories://${id}`);
  const usersUri = fc.constantFrom(...world.known.userIds).map((id) => `users://${id}/memories`);
  const uri = fc.oneof(
    memoryUri,
    usersUri,
    fc.uuid().map((id) => `memories://${id}`),
    fc.webUrl(),
    fc.string(),
  );
  const methods: fc.Arbitrary<[string, unknown]>[] = [
    fc
      .record({
        protocolVersion: fc.oneof(
          fc.constantFrom('2025-11-25', '2025-06-18', '2024-11-05', '2026-07-28', '1999-01-01'),
          fc.string(),
        ),
        capabilities: fc.oneof(fc.constant({}), fc.jsonValue({ maxDepth: 2 })),
        clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), fc.jsonValue({ maxDepth: 2 })),
      })
      .map((params) => ['initialize', params]),
    fc.constant(['ping', undefined]),
    fc.option(fc.record({ cursor: fc.string() })).map((p) => ['tools/list', p ?? undefined]),
    fc.constant(['resources/list', undefined]),
    fc.constant(['resources/templates/list', undefined]),
    uri.map((u) => ['resources/read', { uri: u }]),
    uri.map((u) => ['resources/subscribe', { uri: u }]),
    fc.constant(['prompts/list', undefined]),
    fc
      .record({
        name: fc.oneof(fc.constantFrom('recall', 'remember', 'ask_persona'), fc.string()),
        arguments: fc.dictionary(
          fc.constantFrom('topic', 'fact', 'user_id', 'question', 'x'),
          fc.oneof(fc.string(), fc.jsonValue()),
        ),
      })
      .map((p) => ['prompts/get', p]),
    fc
      .record({ name: fc.constantFrom('topic', 'user_id'), value: fc.string() })
      .map((argument) => ['completion/complete', { ref: { type: 'ref/prompt', name: 'recall' }, argument }]),
    fc.constantFrom('debug', 'info', 'bogus').map((level) => ['logging/setLevel', { level }]),
  ];
  const notifications: fc.Arbitrary<Message>[] = [
    fc.constant({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    fc
      .record({ requestId: rpcId(), reason: fc.string() })
      .map((params) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params })),
  ];
  return fc.oneof(
    {
      arbitrary: fc.tuple(rpcId(), fc.oneof(...methods)).map(([id, [method, params]]) => ({
        jsonrpc: '2.0',
        id,
        method,
        ...(params === undefined ? {} : { params }),
      })),
      weight: 5,
    },
    { arbitrary: fc.oneof(...notifications), weight: 1 },
  );
}

const without = (m: Message, key: string): Message =>
  Object.fromEntries(Object.entries(m).filter(([k]) => k !== key));

/** A JSON-RPC message broken as an envelope: version, id, method, params, batching, direction. */
export function brokenEnvelope(m: Message): fc.Arbitrary<{ message: unknown; how: string }> {
  const params = (m.params ?? {}) as Message;
  const as = (how: string) => (message: unknown) => ({ message, how });
  return fc.oneof(
    fc
      .constantFrom<unknown>('1.0', 2, null, undefined)
      .map((v) => (v === undefined ? without(m, 'jsonrpc') : { ...m, jsonrpc: v }))
      .map(as('jsonrpc')),
    fc
      .oneof(
        fc.constantFrom<unknown>({}, [], true, 1.5, -1, 2 ** 64, null, 'x'.repeat(10_000)),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map((id) => ({ ...m, id }))
      .map(as('id')),
    fc
      .oneof(
        fc.constantFrom(
          'tools/Call',
          'tools/call ',
          '',
          'rpc.discover',
          '__proto__',
          'tools/list/x',
          'notifications/message',
        ),
        fc.string(),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map((method) => ({ ...m, method }))
      .map(as('method')),
    fc
      .constantFrom<unknown>(undefined, [], 'x', null, 42)
      .map((p) => (p === undefined ? without(m, 'params') : { ...m, params: p }))
      .map(as('params')),
    fc
      .oneof(
        fc.constantFrom<unknown>('no_such_tool', 42, null, ['submit_memory'], 'SUBMIT_MEMORY', ''),
        fc.string(),
      )
      .map((name) => ({ ...m, params: { ...params, name } }))
      .map(as('params.name')),
    fc
      .constantFrom<unknown>([], 'x', null, 7)
      .map((args) => ({ ...m, params: { ...params, arguments: args } }))
      .map(as('params.arguments')),
    fc
      .jsonValue({ maxDepth: 2 })
      .map((token) => ({ ...m, params: { ...params, _meta: { progressToken: token } } }))
      .map(as('params._meta')),
    fc
      .array(fc.oneof(fc.constant<unknown>(m), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 })
      .map(as('batch')),
    fc.constant([[m]]).map(as('nested-batch')),
    fc.constant(without(m, 'id')).map(as('notification')),
    fc
      .constantFrom<unknown>(
        { jsonrpc: '2.0', id: 1, result: {} },
        { jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } },
      )
      .map(as('response-shaped')),
  );
}
