import type { Server } from 'node:http';
import express from 'express';
import type { Context } from '../context.js';
import { healthHandler } from './health.js';

/** The Express app: pages for people, JSON under /api for scripts. */
export async function createWebApp(ctx: Context): Promise<express.Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.get('/healthz', healthHandler(ctx));
  return app;
}

export async function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
