/** Errors with a meaning the rest of Docket acts on. */

/** A request the user can fix: shown with its HTTP status and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Not found') {
    super(404, message);
    this.name = 'NotFoundError';
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(400, message, details);
    this.name = 'BadRequestError';
  }
}

export class ForbiddenError extends HttpError {
  constructor(message = 'You are not allowed to do that') {
    super(403, message);
    this.name = 'ForbiddenError';
  }
}

export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, message);
    this.name = 'ConflictError';
  }
}

/** A body or file over its size limit; raised while streaming, before the rest is read. */
export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, message);
    this.name = 'PayloadTooLargeError';
  }
}

/** Start-up configuration that cannot work; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Thrown by a task to fail its job at once, without retry: bad input, a missing
 * record. Anything else a task throws follows the task's retry setting.
 */
export class UnrecoverableError extends Error {
  readonly unrecoverable = true;
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableError';
  }
}

/**
 * Thrown by a task when the job's own input is refused (the file's content, parameters
 * that cannot work together, a record that does not exist): the job fails at once and is
 * marked so that it is not retried, since the same input can only fail again.
 */
export class InputError extends UnrecoverableError {
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Turn anything thrown into an Error, keeping the original as the cause. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  let text: string;
  try {
    text = JSON.stringify(thrown);
  } catch {
    text = String(thrown);
  }
  return new Error(`non-error thrown: ${text}`, { cause: thrown });
}

/** The one line a person reads about an error (connection errors get a plain form). */
export function describeError(thrown: unknown): string {
  const err = coerceError(thrown);
  const code = (err as { code?: string }).code;
  if (err.message) return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  // AggregateError (e.g. ECONNREFUSED on both ::1 and 127.0.0.1) has an empty message.
  const inner = (err as { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) return describeError(inner[0]);
  return code ?? err.name;
}
