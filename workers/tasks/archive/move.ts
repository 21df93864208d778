/** move: moves a description (with everything below it) under a new parent. */
import { moveDescription } from '../../../app/archive/descriptions.js';
import { HttpError, InputError } from '../../../app/errors.js';
import { moveSpec } from '../../../app/tasks/archive.js';
import type { TaskDefinition } from '../types.js';
import { describedBy, label } from './common.js';

export const move: TaskDefinition = {
  ...moveSpec,
  async run(ctx) {
    const db = ctx.db();
    const d = await describedBy(db, ctx.params.description);
    const to = await describedBy(db, ctx.params.parent, 'parent description');
    let r: Awaited<ReturnType<typeof moveDescription>>;
    try {
      r = await moveDescription(db, d.id, to.id);
    } catch (err) {
      // A refused move (under itself, under its own descendant) is bad input: no retry.
      if (err instanceof HttpError) throw new InputError(err.message);
      throw err;
    }
    if (r.unchanged) {
      console.log(`${label(d)} is already under ${label(to)}; nothing to do`);
      return { summary: 'already there; nothing moved', objectRef: `description:${d.id}` };
    }
    const from = r.from ? `from under ${label(r.from)}` : 'from the top level';
    console.log(`Moved ${label(d)} ${from} to under ${label(to)}, as its last child`);
    return { summary: `moved under ${to.title ?? to.slug}`, objectRef: `description:${d.id}` };
  },
};
