/** publication-status: sets draft or published on a description and, optionally, all below it. */
import { setPublicationStatus } from '../../../app/archive/descriptions.js';
import type { PublicationStatus } from '../../../app/archive/types.js';
import { publicationStatusSpec } from '../../../app/tasks/archive.js';
import type { TaskDefinition } from '../types.js';
import { describedBy, label } from './common.js';

const LABEL: Record<PublicationStatus, string> = { draft: 'Draft', published: 'Published' };

export const publicationStatus: TaskDefinition = {
  ...publicationStatusSpec,
  async run(ctx) {
    const db = ctx.db();
    const d = await describedBy(db, ctx.params.description);
    const status = ctx.params.status as PublicationStatus;
    const descendants = Boolean(ctx.params.descendants);
    console.log(`Setting ${label(d)}${descendants ? ' and its descendants' : ''} to ${LABEL[status]}`);
    ctx.progress(0, null, 'updating');
    const r = await setPublicationStatus(db, d.id, status, {
      descendants,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(p.total, null, `${p.total} descriptions looked at, ${p.changed} changed`),
    });
    const unchanged = r.total - r.changed;
    const text =
      `${r.changed} description${r.changed === 1 ? '' : 's'} changed to ${LABEL[status]}` +
      (unchanged ? `; ${unchanged} already ${LABEL[status]}` : '') +
      ` (${r.total} in all)`;
    ctx.progress(r.total, r.total, text);
    console.log(text);
    return { summary: text, objectRef: `description:${d.id}` };
  },
};
