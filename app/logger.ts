import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { Config } from './config.js';

export type Logger = winston.Logger;

let root: winston.Logger | null = null;

/**
 * The process logger, made from the first configuration it is given (a process has one;
 * test files that open several contexts share the first one's). Tests run at `error`
 * (LOG_LEVEL, set by test/helpers.ts) so they stay quiet. Use
 * `logger.child({ job, worker })` for scope.
 */
export function getLogger(config: Pick<Config, 'logLevel' | 'logDir'>): winston.Logger {
  root ??= createLogger(config);
  return root;
}

/** A logger at the configured level: the console, plus `docket.log` in the configured folder. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logDir'>): winston.Logger {
  const level = config.logLevel;
  const dir = config.logDir;
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
  return winston.createLogger({ level, transports });
}
