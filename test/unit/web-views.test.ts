import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ejsEngine, localNames } from '../../app/web/views.js';

describe('view engine (EJS without `with`)', () => {
  it('declares the names a template reads, not keywords, globals, strings, comments or properties', () => {
    const names = localNames(
      '<%# a comment naming ghost %><p><%= title %> <%- h.taskTitle(job.task) %></p>' +
        '<% rows.forEach(function (r) { if (typeof missing === "undefined") { %><%= JSON.stringify(r) + \'quoted words\' + encodeURIComponent(r.id) %><% } }) %>' +
        '<%% literal %%>',
    );
    expect(names).to.deep.equal(['h', 'job', 'missing', 'r', 'rows', 'title']);
  });

  it('renders like EJS: locals, a missing local as undefined, globals, escaping, includes with their own names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docket-views-'));
    try {
      mkdirSync(join(dir, 'partials'));
      mkdirSync(join(dir, 'pages'));
      writeFileSync(join(dir, 'partials', 'head.ejs'), '<h1><%= title %></h1><% if (user) { %>[<%= user.name %>]<% } %>');
      writeFileSync(
        join(dir, 'pages', 'list.ejs'),
        "<%- include('../partials/head') %><%= typeof nothing %> <%= JSON.stringify(n) %> <%= x %><%- include('../partials/head', { title: 'inner' }) %>",
      );
      const render = ejsEngine(dir);
      for (const cache of [false, true, true]) {
        let out = '';
        render(join(dir, 'pages', 'list.ejs'), { title: 'A <b>', user: null, n: [1], x: '"&"', cache }, (err, html) => {
          if (err) throw err;
          out = html ?? '';
        });
        expect(out).to.equal('<h1>A &lt;b&gt;</h1>undefined [1] &#34;&amp;&#34;<h1>inner</h1>');
      }
      let failure: unknown = null;
      writeFileSync(join(dir, 'pages', 'broken.ejs'), 'line 1\n<%= notALocal.name %>');
      render(join(dir, 'pages', 'broken.ejs'), { cache: false }, (err) => (failure = err));
      expect(String(failure)).to.match(/broken\.ejs:2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
