/** Probe: scenario 1's Docket side only, with MariaDB statement counts per job; RMQ_PID: the broker whose CPU per job to print. */
import { describe, perJob, sample } from './lib/cpu.js';
import { makeDocketEnv } from './lib/docket-env.js';
import { docketThroughput } from './lib/docket-runs.js';
import { startWorker, type Proc } from './lib/proc.js';
import mysql from 'mysql2/promise';

import { readFileSync } from 'node:fs';
const ownMs = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const n = Number(process.env.N || 20000);
const status = async (c: mysql.Connection) => {
  const [rows] = await c.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_insert','Com_update','Com_select','Com_commit','Com_delete','Com_begin','Questions','Innodb_data_fsyncs','Com_insert_select','Com_stmt_execute','Handler_write','Handler_update','Handler_delete','Handler_read_key','Handler_read_next','Com_replace','Com_rollback')");
  return Object.fromEntries((rows as Array<{ Variable_name: string; Value: string }>).map((r) => [r.Variable_name, Number(r.Value)]));
};
const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
const workers: Proc[] = [];
const c = await mysql.createConnection('mysql://root@127.0.0.1:3306/test');
try {
  const ctx = await env.context();
  for (let i = 0; i < 2; i++) workers.push(await startWorker(env.env, 8));
  await docketThroughput(ctx, 200);
  for (let r = 0; r < Number(process.env.RUNS || 1); r++) {
    const s0 = await status(c);
    const own0 = workers.map((w) => ownMs(w.pid));
    // The main broker only (RMQ_PID): private RabbitMQ nodes of other runs are beam.smp too.
    const rmqPid = Number(process.env.RMQ_PID || 0);
    const rmq0 = rmqPid ? ownMs(rmqPid) : 0;
    const before = sample({ workers: workers.map((w) => w.pid) }, ['MariaDB', 'RabbitMQ']);
    const run = await docketThroughput(ctx, n);
    const cpu = perJob(before, sample({ workers: workers.map((w) => w.pid) }, ['MariaDB', 'RabbitMQ']), n);
    const s1 = await status(c);
    if (rmqPid) console.log(`main RabbitMQ µs/job ${Math.round(((ownMs(rmqPid) - rmq0) * 1000) / n)}`);
    console.log('worker own µs/job', workers.map((w, i) => Math.round(((ownMs(w.pid) - own0[i]) * 1000) / n)));
    console.log(`${run.jobsPerSecond.toFixed(0)} jobs/s enqueue ${Math.round(run.enqueueMs)} ms; CPU ${describe(cpu)}`);
    console.log(Object.keys(s1).map((k) => `${k}=${((s1[k] - s0[k]) / n).toFixed(2)}`).join(' '));
  }
} finally {
  await c.end();
  for (const w of workers) await w.stop();
  await env.cleanup();
}
