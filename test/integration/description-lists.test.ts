/**
 * Repeatable fields as lists: the migration that converts a database's `a|b` values (and
 * back), on each database, and how the lists are stored.
 */
import { expect } from 'chai';
import { fieldValue } from '../../app/archive/csv-columns.js';
import { getDescription } from '../../app/archive/descriptions.js';
import type { Context } from '../../app/context.js';
import { migrate } from '../../app/db.js';
import { migrationSource } from '../../db/migrations/index.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const MIGRATION = '20261129150000_description_lists';

/** A description as the release before the lists stored it: `a|b` text. */
const OLD_EXTRA = {
  generalNote: 'First note|Second note',
  subjectAccessPoints: 'Ships| Harbours |',
  language: 'en|fr',
  alternativeIdentifiers: 'A-1|B-2',
  alternativeIdentifierLabels: 'Old number|',
  eventTypes: 'Creation|Accumulation',
  eventActors: 'Ann|NULL',
  eventActorHistories: 'Ann ran the port|',
  archivalHistory: 'Not a list | kept as written',
};

const seen = new Set<string>();
for (const backend of backends().filter((b) => !seen.has(b.db) && seen.add(b.db))) {
  describe(`repeatable fields as lists, on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    it('the migration turns a|b values into lists, events into one object each, and back', async () => {
      await ctx.db.migrate.down({ migrationSource, name: MIGRATION });
      expect(await ctx.db.schema.hasColumn('descriptions', 'events')).to.equal(false);
      const now = Date.now();
      const [id] = (await ctx.db('descriptions').insert({
        title: 'Old fonds',
        slug: 'old-fonds',
        position: 0,
        extra: JSON.stringify(OLD_EXTRA),
        event_dates: '1900-1910|1920',
        event_start_dates: '1900|1920',
        event_end_dates: '1910|',
        created_at: now,
        updated_at: now,
      })) as number[];
      const plain = (await ctx.db('descriptions').insert({ title: 'Plain', slug: 'plain', position: 1, created_at: now, updated_at: now })) as number[];

      expect(await migrate(ctx.db)).to.deep.equal([MIGRATION]);
      const d = (await getDescription(ctx.db, Number(id)))!;
      expect(d.lists).to.deep.equal({
        generalNote: ['First note', 'Second note'],
        subjectAccessPoints: ['Ships', 'Harbours'],
        language: ['en', 'fr'],
      });
      expect(d.alternativeIdentifiers).to.deep.equal([
        { identifier: 'A-1', label: 'Old number' },
        { identifier: 'B-2', label: '' },
      ]);
      const blank = { place: '', description: '' };
      expect(d.events).to.deep.equal([
        { type: 'Creation', date: '1900-1910', startDate: '1900', endDate: '1910', actor: 'Ann', actorHistory: 'Ann ran the port', ...blank },
        { type: 'Accumulation', date: '1920', startDate: '1920', endDate: '', actor: '', actorHistory: '', ...blank },
      ]);
      // A field that is no list in AtoM stays as written.
      expect(d.extra).to.deep.equal({ archivalHistory: 'Not a list | kept as written' });
      // Stored as JSON lists; the old event columns are emptied.
      const row = (await ctx.db('descriptions').where({ id }).first()) as Record<string, unknown>;
      expect(JSON.parse(String(row.extra))).to.deep.include({ generalNote: ['First note', 'Second note'] });
      expect(JSON.parse(String(row.events))).to.have.length(2);
      expect([row.event_dates, row.event_start_dates, row.event_end_dates]).to.deep.equal([null, null, null]);
      // The export writes AtoM's cells back from them.
      expect(['eventDates', 'eventTypes', 'eventEndDates', 'alternativeIdentifierLabels', 'generalNote'].map((c) => fieldValue(d, c))).to.deep.equal([
        '1900-1910|1920',
        'Creation|Accumulation',
        '1910|',
        'Old number|',
        'First note|Second note',
      ]);
      const p = (await getDescription(ctx.db, Number(plain)))!;
      expect([p.events, p.lists, p.alternativeIdentifiers, p.extra]).to.deep.equal([[], {}, [], {}]);

      // And back: `a|b` text again, the event columns refilled.
      await ctx.db.migrate.down({ migrationSource, name: MIGRATION });
      const back = (await ctx.db('descriptions').where({ id }).first()) as Record<string, unknown>;
      expect(JSON.parse(String(back.extra))).to.deep.include({
        generalNote: 'First note|Second note',
        alternativeIdentifiers: 'A-1|B-2',
        alternativeIdentifierLabels: 'Old number|',
        eventActors: 'Ann|',
      });
      expect([back.event_dates, back.event_start_dates, back.event_end_dates]).to.deep.equal(['1900-1910|1920', '1900|1920', '1910|']);
      expect(await migrate(ctx.db)).to.deep.equal([MIGRATION]);
    });
  });
}
