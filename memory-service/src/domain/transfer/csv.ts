import { invalid } from '@picard/service-kit';

/**
 * An RFC 4180 reader, kept by hand on purpose: csv-parse (6.x, `skip_records_with_error`) reports a
 * stray quote (`"after"x,…`) and then reads every following line into one quoted field until the
 * end of the file, so one bad record would lose the rest; and it reports an unclosed quote as a skipped
 * record. This reader makes a bad record one item error and resumes at the next line end, and refuses
 * an unclosed quote as a whole-file error. It takes CRLF, LF or CR line ends and a leading byte-order
 * mark, as spreadsheets write them. (Writing uses csv-stringify: see csv.codec.ts.)
 */
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
