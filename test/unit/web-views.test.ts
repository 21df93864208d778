import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ejs from 'ejs';
import { asciiTemplate, ejsEngine, escapeHtml, localNames } from '../../app/web/views.js';

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

  it('writes the literal text of a template in ASCII, leaving its tags and the values of the data as they are', () => {
    expect(asciiTemplate('<p>Clear jobs… “Command line” · <%= a ? \'↓\' : b %></p>😀')).to.equal(
      '<p>Clear jobs&#x2026; &#x201c;Command line&#x201d; &#xb7; <%= a ? \'↓\' : b %></p>&#x1f600;',
    );
    const dir = mkdtempSync(join(tmpdir(), 'docket-views-'));
    try {
      writeFileSync(join(dir, 'page.ejs'), '<title><%= title %> · Docket</title>');
      let out = '';
      ejsEngine(dir)(join(dir, 'page.ejs'), { title: 'Québec “1901”', cache: true }, (err, html) => {
        if (err) throw err;
        out = html ?? '';
      });
      expect(out).to.equal('<title>Québec “1901” &#xb7; Docket</title>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('escapes values exactly as EJS does', () => {
    for (const v of [undefined, null, 0, 12, -1.5, NaN, '', 'plain', '<a href="x">Tom & Jerry\'s</a>', '&&', 'é↓', true, { toString: () => '<o>' }, [1, '<']]) {
      expect(escapeHtml(v)).to.equal(ejs.escapeXML(v as string));
    }
  });
});
