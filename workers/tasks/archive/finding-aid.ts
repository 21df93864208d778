/**
 * finding-aid: a PDF or RTF document of a top-level description and its hierarchy, laid
 * out as AtoM's (finding-aid-layout.ts): cover, contents, summary information, narrative
 * sections, then the inventory in one of AtoM's two models:
 * - inventory summary: a table of reference code, level and title, dates and physical
 *   description, each series across it with its notes;
 * - full details: every lower level in order, each with all its fields.
 * A finding aid is public unless asked otherwise (`public: false`), as AtoM's default: it
 * holds published descriptions only (a draft hides its branch; a draft top level is still
 * written) and leaves physical storage out. With a culture, each field is written in that
 * culture where a translation has it, in the source culture where not.
 *
 * The description's finding-aid status says where it stands: generating while this
 * runs, then generated (with the file) or error (with the reason).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkTree } from '../../../app/archive/description-tree.js';
import { setFindingAid } from '../../../app/archive/descriptions.js';
import { inCulture } from '../../../app/archive/translations.js';
import { InputError, coerceError } from '../../../app/errors.js';
import { findingAidSpec } from '../../../app/tasks/archive.js';
import type { TaskDefinition } from '../types.js';
import { cultureOf, describedBy, label } from './common.js';
import { buildFindingAid, cultureName, type FindingAidFormat, type FindingAidModel } from './finding-aid-render.js';

export const findingAid: TaskDefinition = {
  ...findingAidSpec,
  async run(ctx) {
    const db = ctx.db();
    ctx.steps?.(['Read the hierarchy', 'Render', 'Store']);
    ctx.step?.('Read the hierarchy');
    const root = await describedBy(db, ctx.params.description);
    if (root.parentId !== null) {
      throw new InputError(
        `${label(root)} is not a top-level description; finding aids are generated for top-level descriptions`,
      );
    }
    const format = ctx.params.format as FindingAidFormat;
    const model = ctx.params.model as FindingAidModel;
    // Public unless asked otherwise, as AtoM's default: published descriptions only and no
    // physical storage. A draft top level still gets one (AtoM generates it too), with
    // its draft lower levels left out.
    const publicOnly = ctx.params.public !== false;
    const culture = cultureOf(ctx.params.culture);
    await setFindingAid(db, root.id, { status: 'generating', jobId: ctx.jobId, error: null, at: Date.now() });
    // The renderers write to a path: a scratch file on this host, then streamed into the
    // file store, from which any web process serves it.
    const scratch = await mkdtemp(join(tmpdir(), 'docket-finding-aid-'));
    const path = join(scratch, `finding-aid.${format}`);
    const downloadName = `${root.slug}${culture ? `-${culture}` : ''}.${format}`;
    console.log(
      `Generating the ${publicOnly ? 'public' : 'full (not public)'} ${model === 'full-details' ? 'full details' : 'inventory summary'} ` +
        `finding aid of ${label(root)} as ${format.toUpperCase()}${culture ? ` in ${cultureName(culture)} (${culture})` : ''}` +
        (publicOnly && root.publicationStatus !== 'published' ? '; the description is a draft, its published lower levels are included' : ''),
    );
    ctx.step?.('Render');
    ctx.progress(0, null, 'writing');
    try {
      const count = await buildFindingAid({
        path,
        format,
        model,
        publicOnly,
        culture,
        nodes: () => inCulture(db, walkTree(db, root, { publishedOnly: publicOnly, draftRoot: true }), culture),
        signal: ctx.signal,
        onProgress: (n, counting) => {
          const text = counting ? `${n} descriptions laid out (counting the pages)` : `${n} descriptions written`;
          ctx.progress(n, null, text);
          ctx.step?.('Render', { current: n, text });
        },
      });
      ctx.step?.('Store');
      const file = await ctx.putResult(createReadStream(path), downloadName, format === 'pdf' ? 'application/pdf' : 'application/rtf');
      await setFindingAid(db, root.id, {
        status: 'generated',
        jobId: ctx.jobId,
        file: file.id,
        name: downloadName,
        error: null,
        at: Date.now(),
      });
      ctx.progress(count, count, `${count} descriptions written`);
      console.log(`Wrote ${count} description${count === 1 ? '' : 's'} to ${downloadName} (${file.size} bytes, stored as ${file.id})`);
      return {
        summary: `${format.toUpperCase()}, ${model}, ${publicOnly ? 'public' : 'full'}${culture ? `, ${culture}` : ''}: ${count} descriptions`,
        file: { stored: file.id, downloadName },
        objectRef: `description:${root.id}`,
      };
    } catch (thrown) {
      const err = coerceError(thrown);
      await setFindingAid(db, root.id, { status: 'error', jobId: ctx.jobId, error: err.message, at: Date.now() }).catch(
        () => undefined,
      );
      throw err;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
