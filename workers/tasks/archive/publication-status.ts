/** publication-status: sets draft or published on a description and, optionally, all below it. */
import { setPublicationStatus } from '../../../app/archive/descriptions.js';
import { PUBLICATION_STATUSES, type PublicationStatus } from '../../../app/archive/types.js';
import type { TaskDefinition } from '../types.js';
import { describedBy, descriptionParam, descriptionRef, label } from './common.js';

const LABEL: Record<PublicationStatus, string> = { draft: 'Draft', published: 'Published' };

export const publicationStatus: TaskDefinition = {
  name: 'publication-status',
  title: 'Update publication status',
  description: 'Sets the publication status (draft or published) of a description and, optionally, its descendants.',
  params: {
    description: descriptionParam,
    status: { type: 'enum', values: PUBLICATION_STATUSES, required: true, description: 'draft or published' },
    descendants: { type: 'boolean', default: false, description: 'also every description below it' },
  },
  objectRef: descriptionRef,
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
