import { invalid } from '@picard/service-kit';

/**
 * A small RFC 4180 writer and parser (no CSV package is installed): records end in CRLF, fields
 * with a comma, quote, CR, LF or edge whitespace are quoted, quotes inside are doubled. The parser
 * also takes LF or CR line ends and a leading byte-order mark, as spreadsheets write them.
 */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvRecord(fields: string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export interface CsvRow {
  fields: string[];
  /** 1-based line the record starts on. */
  line: number;
  /** A malformed record (stray quote); the parser resumes at the next line end. */
  error?: string;
}

export function parseCsv(input: string): CsvRow[] {
  const data = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const n = data.length;
  const rows: CsvRow[] = [];
  let i = 0;
  let line = 1;
  while (i < n) {
    const row: CsvRow = { fields: [], line };
    for (;;) {
      let value = '';
      if (data[i] === '"') {
        const start = line;
        i++;
        for (;;) {
          const j = data.indexOf('"', i);
          if (j < 0) throw invalid('data', `CSV quoted field starting on line ${start} is never closed`);
          const chunk = data.slice(i, j);
          line += countLineBreaks(chunk);
          value += chunk;
          if (data[j + 1] === '"') {
            value += '"';
            i = j + 2;
          } else {
            i = j + 1;
            break;
          }
        }
        if (i < n && !isDelimiter(data, i)) {
          row.error ??= `line ${line}: text after a closing quote`;
          i = skipField(data, i);
        }
      } else {
        const end = skipField(data, i);
        value = data.slice(i, end);
        if (value.includes('"'))
          row.error ??= `line ${line}: a quote inside an unquoted field (quote the whole field)`;
        i = end;
      }
      row.fields.push(value);
      if (data[i] === ',') {
        i++;
        continue;
      }
      if (data[i] === '\r' && data[i + 1] === '\n') i += 2;
      else if (i < n) i++;
      line++;
      break;
    }
    rows.push(row);
  }
  return rows;
}

const isDelimiter = (s: string, i: number) => s[i] === ',' || s[i] === '\n' || s[i] === '\r';

function skipField(s: string, from: number): number {
  let i = from;
  while (i < s.length && !isDelimiter(s, i)) i++;
  return i;
}

function countLineBreaks(s: string): number {
  return (s.match(/\r\n|\r|\n/g) ?? []).length;
}
