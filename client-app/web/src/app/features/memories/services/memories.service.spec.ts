import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { ME, memory, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { MemoriesService } from './memories.service';

const ID = 'aaaaaaaa-0000-4000-8000-0000000000aa';
const notFound = { error: 'not_found', message: 'memory not found' };

describe('MemoriesService.findById', () => {
  it('asks get_memory for the one memory', async () => {
    const { http } = setupHttp(signedIn());
    const found = TestBed.inject(MemoriesService).findById(ID);
    const req = http.expectOne('/bff/tools/get_memory');
    expect(req.request.body).toEqual({ memory_id: ID });
    req.flush({ result: memory({ id: ID, text: 'found' }) });
    await expect(found).resolves.toMatchObject({ id: ID, text: 'found' });
    http.verify();
  });

  it('is null when the memory is hidden or gone, without paging anything', async () => {
    const { http } = setupHttp(signedIn());
    const found = TestBed.inject(MemoriesService).findById(ID);
    http.expectOne('/bff/tools/get_memory').flush(notFound, { status: 404, statusText: 'Not Found' });
    await expect(found).resolves.toBeNull();
    http.verify();
  });

  it("looks among the owner's own memories, expired included, when get_memory hides an expired one", async () => {
    const { http } = setupHttp(signedIn());
    const found = TestBed.inject(MemoriesService).findById(ID, ME);
    http.expectOne('/bff/tools/get_memory').flush(notFound, { status: 404, statusText: 'Not Found' });
    await settle();
    const page = http.expectOne('/bff/tools/get_memories');
    expect(page.request.body).toMatchObject({ expired: 'include', user_id: ME });
    page.flush({
      result: {
        memories: [memory({ id: ID, expiration_date: '2026-01-01T00:00:00.000Z' })],
        next_cursor: null,
      },
    });
    await expect(found).resolves.toMatchObject({ id: ID });
    http.verify();
  });

  it('passes other failures on', async () => {
    const { http } = setupHttp(signedIn());
    const found = TestBed.inject(MemoriesService).findById(ID, ME);
    http
      .expectOne('/bff/tools/get_memory')
      .flush(
        { error: 'picard_unavailable', message: 'Picard cannot be reached' },
        { status: 503, statusText: 'Unavailable' },
      );
    await expect(found).rejects.toBeTruthy();
    http.verify();
  });
});
