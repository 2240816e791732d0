// pg's own result parser (pg/lib/result.js, exported by the package but not typed by
// @types/pg): a custom query object parses its rows with it exactly as pg parses any query's.
declare module "pg/lib/result.js" {
  export default class Result {
    rows: Record<string, unknown>[];
    addFields(fields: unknown[]): void;
    parseRow(fields: unknown[]): Record<string, unknown>;
    addRow(row: Record<string, unknown>): void;
  }
}
