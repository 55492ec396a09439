import type { UiTableColumns, UiTableRun } from '../../../backend/src/api/v1/contract-table';

/** The experiments table's messages (webviews/src/table ↔ extension/src/experiments/table.ts). */

/** What the table asks the backend for: the filter and order go to the server in MLflow's grammar. */
export interface TableQuery {
  /** MLflow's filter (`metrics.rmse < 1 and params.lr = '0.1'`); '' for all runs. */
  filter: string;
  /** A column (`metrics.rmse`, `params.lr`, `tags.x`) or an attribute (`start_time`, `run_name`, `status`). */
  sort: { key: string; asc: boolean };
  /** `sort` in MLflow's order_by grammar (what the backend is sent). */
  orderBy: string;
  columns: string[];
}

/** Rows so far for query `seq`; `done` once every matching run (up to the host's cap) has arrived. */
export interface TableRows {
  seq: number;
  columns: string[];
  runs: UiTableRun[];
  /** Append to the rows of the same `seq` (a later page) rather than replace them. */
  append: boolean;
  total: number;
  done: boolean;
}

export type TableToWebview =
  /** The experiments shown and the keys their runs logged (for the column chooser); sent after `ready`. */
  | { type: 'table/init'; title: string; available: UiTableColumns }
  | { type: 'table/rows'; rows: TableRows }
  /**
   * Runs were logged, changed or deleted in the table's experiments (the host debounces the backend's events and
   * sends it only while the table is visible; a hidden one is rebuilt when shown): query again with the user's
   * filter, sort and columns, keeping the selection and the scroll position; `available` are the keys now logged.
   */
  | { type: 'table/changed'; available: UiTableColumns }
  /** A query failed; `filter` is true when the backend refused the filter or order (its 400 message is shown inline). */
  | { type: 'table/error'; seq: number; message: string; filter: boolean };

export type TableToHost =
  | { type: 'table/ready' }
  /** `refresh`: asked after `table/changed`; the host answers with every page in one `rows`, so the rows swap at once. */
  | { type: 'table/query'; seq: number; query: TableQuery; refresh?: boolean }
  | { type: 'table/compare'; runIds: string[] }
  | { type: 'table/openRun'; runId: string }
  /** After the first rows are painted for a query (ms since the query was sent), and when all rows have arrived. */
  | { type: 'table/rendered'; seq: number; ms: number; rows: number; columns: number; domRows: number; complete: boolean; refresh?: boolean };

/** What the webview keeps across hide/show: the user's choices, never the rows. */
export interface TableState {
  filter: string;
  sort: { key: string; asc: boolean };
  /** null until the user chooses: then the default columns are used. */
  columns: string[] | null;
  selected: string[];
  plotX: string;
  plotY: string;
}
