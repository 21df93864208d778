/** Where files uploaded with a job (a CSV to import) wait for it, under the results folder. */
import { isAbsolute, relative, resolve } from 'node:path';

/** Where uploads from the web wait for their import (under the results folder). */
export function uploadsDir(resultsDir: string): string {
  return resolve(resultsDir, 'uploads');
}

/** Whether `file` lies inside the uploads folder (not the folder itself, not beside it). */
export function isUpload(resultsDir: string, file: string): boolean {
  const rel = relative(uploadsDir(resultsDir), resolve(file));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
