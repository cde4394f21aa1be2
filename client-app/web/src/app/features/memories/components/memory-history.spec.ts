import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import type { Memory, MemoryVersion } from '@contract/bff-api';
import { ME, memory, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { MemoryHistoryPanel } from './memory-history';

const current = memory({ id: 'm-1', text: 'Now', updated_at: '2026-01-05T10:00:00.000Z' });

function version(n: number, overrides: Partial<MemoryVersion> = {}): MemoryVersion {
  return {
    version: n,
    text: `Text of version ${n}`,
    permission: 'private',
    shared_with: { users: [], groups: [] },
    tags: [],
    expiration_date: null,
    updated_at: '2026-01-02T10:00:00.000Z',
    changed_at: '2026-01-03T10:00:00.000Z',
    changed_by: ME,
    change: 'update',
    restored_version: null,
    ...overrides,
  };
}

async function render(canRestore: boolean, versions: MemoryVersion[], nextCursor: string | null = null) {
  const { http } = setupHttp(signedIn({ can_write: canRestore }));
  const fixture = TestBed.createComponent(MemoryHistoryPanel);
  fixture.componentRef.setInput('memory', current);
  fixture.componentRef.setInput('canRestore', canRestore);
  const restored: { memory: Memory; version: number }[] = [];
  fixture.componentInstance.restored.subscribe((e) => restored.push(e));
  await fixture.whenStable();
  const first = http.expectOne('/bff/tools/get_memory_history');
  expect(first.request.body).toEqual({ memory_id: 'm-1', limit: 10 });
  first.flush({
    result: {
      memory_id: 'm-1',
      current_version: (versions[0]?.version ?? 0) + 1,
      versions,
      next_cursor: nextCursor,
    },
  });
  await settle();
  await fixture.whenStable();
  const el: HTMLElement = fixture.nativeElement;
  const button = (label: string) =>
    Array.from(el.querySelectorAll('button')).find((b) => b.textContent?.trim() === label) as
      HTMLButtonElement | undefined;
  return { http, fixture, el, button, restored };
}

describe('MemoryHistoryPanel', () => {
  it('lists earlier versions newest first with who replaced them and how, and pages with the cursor', async () => {
    const { el, http, fixture, button } = await render(
      true,
      [
        version(3, { change: 'restore', restored_version: 1, permission: 'public', tags: ['old'] }),
        version(2, { change: 'permissions' }),
      ],
      'c2',
    );
    expect(el.textContent).toContain('Version 4 is the one above');
    const items = Array.from(el.querySelectorAll('.version'));
    expect(items.map((i) => i.getAttribute('data-version'))).toEqual(['3', '2']);
    expect(items[0]!.textContent).toContain('by you (restored version 1)');
    expect(items[0]!.textContent).toContain('Public');
    expect(items[0]!.querySelector('.chip')?.textContent).toBe('old');
    expect(items[1]!.textContent).toContain('(sharing changed)');

    button('Show older versions')!.click();
    const next = http.expectOne('/bff/tools/get_memory_history');
    expect(next.request.body).toEqual({ memory_id: 'm-1', limit: 10, cursor: 'c2' });
    next.flush({
      result: { memory_id: 'm-1', current_version: 4, versions: [version(1)], next_cursor: null },
    });
    await settle();
    await fixture.whenStable();
    expect(el.querySelectorAll('.version')).toHaveLength(3);
    expect(button('Show older versions')).toBeUndefined();
  });

  it('restores a version after a confirmation, naming the updated_at it read', async () => {
    const { el, http, fixture, button, restored } = await render(true, [version(1)]);
    button('Restore this version')!.click();
    await fixture.whenStable();
    http.expectNone('/bff/tools/restore_memory');
    expect(el.querySelector('[role=alertdialog]')?.textContent).toContain('Restore version 1?');
    button('Restore')!.click();
    const req = http.expectOne('/bff/tools/restore_memory');
    expect(req.request.body).toEqual({
      memory_id: 'm-1',
      version: 1,
      expected_updated_at: '2026-01-05T10:00:00.000Z',
    });
    const after = memory({ id: 'm-1', text: 'Text of version 1', updated_at: '2026-01-05T11:00:00.000Z' });
    req.flush({ result: after });
    await settle();
    expect(restored).toEqual([{ memory: after, version: 1 }]);
  });

  it('shows a conflict when the memory changed meanwhile', async () => {
    const { el, http, fixture, button } = await render(true, [version(1)]);
    button('Restore this version')!.click();
    await fixture.whenStable();
    button('Restore')!.click();
    http.expectOne('/bff/tools/restore_memory').flush(
      {
        error: 'conflict',
        message: 'the memory was changed at …: read it again and retry',
        field: 'expected_updated_at',
      },
      { status: 409, statusText: 'Conflict' },
    );
    await settle();
    await fixture.whenStable();
    expect(el.textContent).toContain('read it again and retry');
  });

  it('offers no restore in a read-only session, and says when there is no history', async () => {
    const readOnly = await render(false, [version(1)]);
    expect(readOnly.button('Restore this version')).toBeUndefined();
    TestBed.resetTestingModule();
    const empty = await render(true, []);
    expect(empty.el.textContent).toContain('No earlier versions');
  });
});
