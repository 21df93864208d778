/** The archival tasks (DESIGN.md §4), registered with the others in `../index.ts`. */
import { csvExport } from './csv-export.js';
import { csvImport } from './csv-import.js';
import { findingAid } from './finding-aid.js';
import { move } from './move.js';
import { publicationStatus } from './publication-status.js';

export const archivalTasks = [findingAid, csvImport, csvExport, publicationStatus, move];
