/** Options every importer takes (trace/import.ts and the importers in their own files). */
export interface ImportOptions {
  /** Milliseconds between samples when the file has no timestamps (vmstat's delay argument, psi2log's -i). */
  intervalMs?: number;
  warn?: (message: string) => void;
}
