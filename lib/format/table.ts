/**
 * Column alignment with the semantics of Go's `text/tabwriter` (flags 0, space padding), as podman
 * writes every `--format` output and default listing through
 * `tabwriter.NewWriter(out, 12, 2, 2, ' ', 0)` (containers/common `report`): cells are tab-terminated,
 * a column block is a run of consecutive lines that have a cell in that column, and each column is
 * `max(minwidth, widest cell + padding)` runes wide. The last cell of a line is not part of a column.
 * @module
 */

/** Settings of the aligner (Go's `tabwriter.NewWriter` parameters). */
export interface TabWriterOptions {
  /** Minimal cell width including padding (podman: 12). */
  minwidth?: number;
  /** Padding added to a cell's width (podman: 2). */
  padding?: number;
  /** Padding character (podman: space). */
  padchar?: string;
  /** Right-align cell content (Go's `AlignRight`). */
  alignRight?: boolean;
  /** Give columns made only of empty cells zero width (Go's `DiscardEmptyColumns`). */
  discardEmptyColumns?: boolean;
}

/** podman's settings: minwidth 12, padding 2, space padding. */
export const PODMAN_TABWRITER: Required<TabWriterOptions> = {
  minwidth: 12,
  padding: 2,
  padchar: " ",
  alignRight: false,
  discardEmptyColumns: false,
};

function width(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // count code points (low surrogates belong to the previous)
  }
  return n;
}

/**
 * Aligns tab-separated text like a Go tabwriter flushed once. Lines end with `\n`; a final line without
 * `\n` is written without one.
 */
export function alignColumns(text: string, options: TabWriterOptions = {}): string {
  const o = { ...PODMAN_TABWRITER, ...options };
  if (!text.includes("\t")) return text;
  const lines = text.split("\n").map((l) => l.split("\t"));
  const widths: number[] = [];
  const out: string[] = [];
  const pad = (n: number) => n > 0 ? o.padchar.repeat(n) : "";

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i];
      let s = "";
      cells.forEach((c, j) => {
        const w = width(c);
        if (j < widths.length) {
          s += o.alignRight ? pad(widths[j] - w) + c : c + pad(widths[j] - w);
        } else {
          s += c;
        }
      });
      out.push(s);
      if (i + 1 < lines.length) out.push("\n");
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = o.minwidth;
      let discardable = true;
      for (; t < line1; t++) {
        const cells = lines[t];
        if (column >= cells.length - 1) break;
        const cw = width(cells[column]);
        if (cw + o.padding > w) w = cw + o.padding;
        if (cw > 0) discardable = false;
      }
      if (discardable && o.discardEmptyColumns) w = 0;
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
      t--; // the for loop's increment re-examines line t (Go's loop continues at `this`)
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join("");
}

/** Renders a table of rows under a header row, aligned like podman (one line per row, `\n`-terminated). */
export function renderTable(header: string[], rows: string[][], options?: TabWriterOptions): string {
  const all = [header, ...rows].map((r) => r.join("\t") + "\n").join("");
  return alignColumns(all, options);
}
