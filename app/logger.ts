import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type winston from 'winston';
import type { Config } from './config.js';

export type Logger = winston.Logger;

let root: winston.Logger | null = null;

/**
 * winston is loaded on the first line a logger writes at its level, not on import: it
 * and its formats are some 80 ms of a short command's start (`docket run` at LOG_LEVEL
 * warn writes nothing). `require`, because a log call cannot wait for an import.
 */
const load = (): typeof winston => createRequire(import.meta.url)('winston') as typeof winston;

/** winston's default (npm) levels, most severe first: what LOG_LEVEL accepts. */
const LEVEL_RANK: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };
const ignore = (): void => undefined;

/**
 * The process logger, made from the first configuration it is given (a process has one;
 * test files that open several contexts share the first one's). Tests run at `error`
 * (LOG_LEVEL, set by test/helpers.ts) so they stay quiet. Use
 * `logger.child({ job, worker })` for scope.
 */
export function getLogger(config: Pick<Config, 'logLevel' | 'logDir'>): winston.Logger {
  root ??= lazyLogger(config.logLevel, () => createLogger(config));
  return root;
}

/**
 * A logger that makes the real one (`make`) when first used for anything but a line
 * below its level, which it drops as winston would; a child stays lazy too.
 */
export function lazyLogger(level: string, make: () => winston.Logger): winston.Logger {
  let real: winston.Logger | null = null;
  const threshold = LEVEL_RANK[level] ?? LEVEL_RANK.info;
  return new Proxy({} as winston.Logger, {
    get(_target, key) {
      if (!real && typeof key === 'string') {
        if (key in LEVEL_RANK && LEVEL_RANK[key] > threshold) return ignore;
        if (key === 'child') return (meta: object) => lazyLogger(level, () => (real ??= make()).child(meta));
      }
      real ??= make();
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
  });
}

/** A logger at the configured level: the console, plus `docket.log` in the configured folder. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logDir'>): winston.Logger {
  const winston = load();
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
