import { describe, expect, it } from '@jest/globals';
import { guessImportFormat } from './transfer-format';

describe('guessImportFormat', () => {
  it('knows the files other memory tools write by their contents, whatever their name', () => {
    const graphLine = '{"type":"entity","name":"Ada","entityType":"person","observations":["Likes tea"]}\n';
    expect(guessImportFormat('memory.json', graphLine)).toBe('mcp-memory');
    expect(guessImportFormat('graph.json', '{\n  "entities": [],\n  "relations": []\n}')).toBe('mcp-memory');
    expect(guessImportFormat('mem0-export.json', '{"results": [{"id": "1", "memory": "Likes tea"}]}')).toBe(
      'mem0',
    );
    expect(guessImportFormat('export.json', '[{"memory": "Likes tea", "user_id": "a"}]')).toBe('mem0');
  });

  it("tells Picard's own Markdown export from a Markdown list", () => {
    expect(guessImportFormat('picard.md', '# Picard memories\n\n<!-- picard-memories version=1 -->')).toBe(
      'markdown',
    );
    expect(guessImportFormat('chatgpt-memory.md', '- Prefers metric units\n- Has a cat')).toBe('text');
    expect(guessImportFormat('notes.txt', 'Prefers metric units')).toBe('text');
  });

  it("falls back to the extension for Picard's formats, and to null when nothing says", () => {
    expect(
      guessImportFormat('memories.json', '{"format": "picard.memories", "memories": [{"text": "a"}]}'),
    ).toBe('json');
    expect(guessImportFormat('memories.jsonl', '{"text":"a"}')).toBe('ndjson');
    expect(guessImportFormat('memories.CSV', 'text,tags')).toBe('csv');
    expect(guessImportFormat('memories.bin', '\u0000')).toBeNull();
  });
});
