/**
 * The experiments table's contract (`/api/v1/ui/runs/table`): one page of runs matching an MLflow filter, in any
 * order MLflow's order_by grammar names, with only the columns the table shows. The extension imports the types only.
 */
import { Type, type Static } from 'typebox';

/** Columns one request may project; the table's column chooser offers more keys, a page carries at most these. */
export const MAX_TABLE_COLUMNS = 200;
/** Rows × columns one page may hold; the page size shrinks to fit (paging goes on with the token). */
export const MAX_TABLE_CELLS = 250_000;
/** Longer param and tag values are cut to this many characters (and end with '…'): the table shows, never edits. */
export const MAX_TABLE_TEXT = 500;

export const UiTableBody = Type.Object({
  experiment_ids: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 100 }),
  /** MLflow's search filter (`metrics.rmse < 1 and params.lr = '0.1'`); a malformed one is a 400 with the parser's message. */
  filter: Type.Optional(Type.String({ maxLength: 20_000 })),
  /** MLflow's order_by (`metrics.rmse ASC`, `params.lr DESC`, `start_time`); newest first when omitted. */
  order_by: Type.Optional(Type.Array(Type.String({ maxLength: 600 }), { maxItems: 10 })),
  /** `metrics.<key>`, `params.<key>` or `tags.<key>` (the key is everything after the first dot). */
  columns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 600 }), { maxItems: MAX_TABLE_COLUMNS })),
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  page_token: Type.Optional(Type.String({ maxLength: 200 })),
});
export type UiTableBody = Static<typeof UiTableBody>;

/** One run: attributes, then `values[i]` for `columns[i]` (a number for metrics, a string for params and tags, null when not logged). */
export interface UiTableRun {
  run_id: string;
  name: string;
  experiment_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  values: (number | string | null)[];
}

export interface UiTablePage {
  columns: string[];
  runs: UiTableRun[];
  /** Runs matching the filter, over all pages. */
  total: number;
  next_page_token?: string;
}

export const UiTableColumnsBody = Type.Object({ experiment_ids: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 100 }) });

/** Keys the experiments' active runs logged, sorted; at most MAX_TABLE_KEYS of each (then `truncated`). */
export const UiTableColumns = Type.Object({
  metrics: Type.Array(Type.String()),
  params: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  truncated: Type.Boolean(),
});
export type UiTableColumns = Static<typeof UiTableColumns>;
export const MAX_TABLE_KEYS = 2000;
