/**
 * The one error middleware: every error becomes a status and a message a person can
 * act on. JSON under /api (and for the pages' own scripts), an HTML page elsewhere.
 * Unknown errors are logged and shown as a plain 500 without their details.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Context } from '../context.js';
import { HttpError, NotFoundError, describeError } from '../errors.js';
import { isApi, loggedUrl } from './http.js';
import { render } from './render.js';

interface Described {
  status: number;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Log in first',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'Too large',
  429: 'Too many requests',
  500: 'Server error',
  503: 'Unavailable',
};

export function describeHttpError(err: unknown): Described {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  const e = err as { status?: number; statusCode?: number; type?: string; code?: string; expose?: boolean; message?: string; limit?: number };
  if (e?.code === 'EBADCSRFTOKEN') {
    return {
      status: 403,
      message: 'This form has expired or was sent from another site. Go back, reload the page and try again.',
    };
  }
  // body-parser's errors
  if (e?.type === 'entity.parse.failed') {
    return { status: 400, message: `The request body is not valid JSON: ${e.message ?? 'parse error'}` };
  }
  if (e?.type === 'entity.too.large') {
    return { status: 413, message: `The request body is too large (the limit is ${e.limit ?? 'smaller'} bytes).` };
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: e.expose !== false && e.message ? e.message : (TITLES[status] ?? 'Bad request') };
  }
  return { status: 500, message: 'Something went wrong on the server. The error was logged.' };
}

export const notFound: RequestHandler = () => {
  throw new NotFoundError('There is no page here.');
};

export function errorHandler(ctx: Context): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      // A stream (CSV, output) failed half-way: cut the connection so the client sees it.
      ctx.log.warn(`${req.method} ${loggedUrl(req)} failed after the response started: ${describeError(err)}`);
      return next(err);
    }
    const { status, message } = describeHttpError(err);
    // A 5xx thrown on purpose (too many live streams, the database unreachable) is an
    // answer Docket chose: a warning. Anything else is a fault, logged with its stack.
    if (status >= 500 && err instanceof HttpError) ctx.log.warn(`${req.method} ${loggedUrl(req)}: ${status} ${message}`);
    else if (status >= 500) ctx.log.error(`${req.method} ${loggedUrl(req)}: ${describeError(err)}`, { stack: (err as Error)?.stack });
    res.set('Cache-Control', 'no-store');
    const wantsJson = isApi(req) || req.accepts(['html', 'json']) === 'json';
    if (wantsJson) {
      res.status(status).json({ error: { status, message } });
      return;
    }
    try {
      render(res, 'error', { title: TITLES[status] ?? 'Error', status, message }, status);
    } catch (renderErr) {
      ctx.log.error(`cannot render the error page: ${describeError(renderErr)}`);
      res.status(status).type('text/plain').send(message);
    }
  };
}
