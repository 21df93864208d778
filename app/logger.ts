import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import { fromRoot } from './paths.js';

export type Logger = winston.Logger;

let root: winston.Logger | null = null;

/**
 * The process logger: console plus `logs/docket.log`. Tests run at `error` (set by
 * LOG_LEVEL in .mocharc) so they stay quiet. Use `logger.child({ job, worker })` for
 * scope.
 */
export function getLogger(): winston.Logger {
  if (root) return root;
  const level = process.env.LOG_LEVEL ?? 'info';
  const dir = process.env.DOCKET_LOG_DIR ? fromRoot(process.env.DOCKET_LOG_DIR) : fromRoot('logs');
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      format: winston.format.combine(
        winston.format.timestamp({ format: 'HH:mm:ss' }),
        winston.format.printf(({ timestamp, level: lvl, message, ...meta }) => {
          const scope = Object.entries(meta)
            .filter(([k]) => typeof k === 'string')
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ');
          return `${String(timestamp)} ${lvl} ${String(message)}${scope ? ` [${scope}]` : ''}`;
        }),
      ),
    }),
  ];
  try {
    mkdirSync(dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: join(dir, 'docket.log'),
        maxsize: 20 * 1024 * 1024,
        maxFiles: 5,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      }),
    );
  } catch {
    // A read-only log folder must not stop the process; the console still works.
  }
  root = winston.createLogger({ level, transports });
  return root;
}
