/** The file store every host reaches; see `types.ts` for its words and `file-store.ts` for how. */
import type { Config } from '../config.js';
import type { Db } from '../db.js';
import { databaseBlobs } from './database-blobs.js';
import { RowFileStore } from './file-store.js';
import { folderBlobs } from './folder-blobs.js';
import type { FileStore } from './types.js';

export type { FileInfo, FileKind, FileStore, PutOptions, PutSource, StoredFile } from './types.js';
export { isFileId } from './file-store.js';

/**
 * The store of `config.fileStore`. Both backends can always read: a file is read from
 * where its row says it was written, so switching DOCKET_FILE_STORE loses nothing
 * (folder files stay readable on the host that has them).
 */
export function createFileStore(config: Pick<Config, 'fileStore' | 'resultsDir'>, db: Db): FileStore {
  return new RowFileStore(db, config.fileStore, config.resultsDir, [databaseBlobs(db), folderBlobs(config.resultsDir)]);
}
