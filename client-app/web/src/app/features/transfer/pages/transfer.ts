import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, signal } from '@angular/core';
import type { BffError, ExportFormat, ImportFormat, ImportJob } from '@contract/bff-api';
import { RouterLink } from '@angular/router';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import type { BffToolResult } from '../../../core/api/tool-types';
import { parseConversation } from '../services/conversation-text';
import { importPercent, pollImport } from '../services/import-poller';
import { EXPORT_FORMATS, IMPORT_FORMATS, exportUrl, guessImportFormat } from '../services/transfer-format';

/** Files above this are refused before upload (the BFF answers 413 beyond its own limit). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

@Component({
  selector: 'app-transfer',
  imports: [ErrorMessage, RouterLink],
  templateUrl: './transfer.html',
  styleUrl: './transfer.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Transfer {
  private readonly bff = inject(BffClient);
  protected readonly session = inject(SessionStore);
  private readonly abort = new AbortController();

  protected readonly importFormats = IMPORT_FORMATS;
  protected readonly exportFormats = EXPORT_FORMATS;
  protected readonly file = signal<File | null>(null);
  protected readonly format = signal<ImportFormat | ''>('');
  protected readonly job = signal<ImportJob | null>(null);
  protected readonly importing = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly exportFormat = signal<ExportFormat>('json');
  protected readonly exportHistory = signal(false);
  protected readonly exportHref = computed(() => exportUrl(this.exportFormat(), this.exportHistory()));
  protected readonly percent = computed(() => {
    const j = this.job();
    return j ? importPercent(j) : null;
  });
  protected readonly fieldAtFault = fieldAtFault;
  protected readonly conversation = signal('');
  protected readonly remembering = signal(false);
  protected readonly remembered = signal<BffToolResult<'remember_conversation'> | null>(null);
  protected readonly rememberFailure = signal<BffError | null>(null);

  constructor() {
    inject(DestroyRef).onDestroy(() => this.abort.abort());
  }

  protected async pick(input: HTMLInputElement): Promise<void> {
    const file = input.files?.[0] ?? null;
    this.file.set(file);
    this.job.set(null);
    this.failure.set(null);
    if (!file) return;
    const head = (await file.text()).slice(0, 64 * 1024);
    if (this.file() === file) this.format.set(guessImportFormat(file.name, head) ?? this.format());
  }

  async startImport(): Promise<void> {
    const file = this.file();
    const format = this.format();
    if (!file) {
      this.failure.set({ error: 'invalid_argument', field: 'file', message: 'Choose a file to import.' });
      return;
    }
    if (!format) {
      this.failure.set({ error: 'invalid_argument', field: 'format', message: "Choose the file's format." });
      return;
    }
    if (file.size > MAX_IMPORT_BYTES) {
      this.failure.set({
        error: 'too_large',
        field: 'file',
        message: 'That file is over 10 MB; split it and import the parts.',
      });
      return;
    }
    this.importing.set(true);
    this.failure.set(null);
    this.job.set(null);
    try {
      const data = await file.text();
      const first = await this.bff.startImport({ format, data });
      const last = await pollImport(first, {
        get: (id) => this.bff.importJob(id),
        onUpdate: (j) => this.job.set(j),
        signal: this.abort.signal,
      });
      if (last.state === 'failed') {
        this.failure.set(
          last.error ?? {
            error: 'import_failed',
            message: 'The import failed. Check the file and try again.',
          },
        );
      }
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.importing.set(false);
    }
  }

  /** remember_conversation on the pasted text: the user's durable facts become memories. */
  async rememberConversation(): Promise<void> {
    const messages = parseConversation(this.conversation());
    this.remembered.set(null);
    if (!messages.some((m) => m.role === 'user')) {
      this.rememberFailure.set({
        error: 'invalid_argument',
        field: 'conversation',
        message: 'Paste a conversation with at least one thing you said.',
      });
      return;
    }
    this.remembering.set(true);
    this.rememberFailure.set(null);
    try {
      this.remembered.set(await this.bff.tool('remember_conversation', { messages }));
    } catch (err) {
      this.rememberFailure.set(toBffError(err));
    } finally {
      this.remembering.set(false);
    }
  }
}
