/** Checks and coerces a job's parameters against its task's spec (web, API and CLI alike). */
import { BadRequestError } from '../errors.js';
import type { ParamSpec, TaskSpec } from './types.js';

function coerce(name: string, spec: ParamSpec, raw: unknown): unknown {
  const bad = (why: string): never => {
    throw new BadRequestError(`parameter "${name}" ${why}`);
  };
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string') bad('must be a string');
      const s = raw as string;
      if (s.length > (spec.maxLength ?? 10_000)) bad(`is longer than ${spec.maxLength ?? 10_000} characters`);
      return s;
    }
    case 'enum': {
      if (typeof raw !== 'string' || !spec.values?.includes(raw)) {
        bad(`must be one of ${spec.values?.join(', ')}`);
      }
      return raw;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes' || raw === 'on' || raw === '') return true;
      if (raw === 'false' || raw === '0' || raw === 'no' || raw === 'off') return false;
      return bad('must be true or false');
    }
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) bad(`must be a number, not ${JSON.stringify(raw)?.slice(0, 40)}`);
      if (spec.type === 'integer' && !Number.isInteger(n)) bad('must be a whole number');
      if (spec.min !== undefined && n < spec.min) bad(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) bad(`must be at most ${spec.max}`);
      return n;
    }
  }
}

/** Checks and coerces a job's parameters against its task; unknown names are refused. */
export function validateParams(def: TaskSpec, raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequestError('params must be an object');
  const input = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(def.params, key)) {
      const known = Object.keys(def.params);
      throw new BadRequestError(
        `unknown parameter "${key.slice(0, 64)}" for task "${def.name}"` +
          (known.length ? `; it takes: ${known.join(', ')}` : '; it takes none'),
      );
    }
  }
  for (const [name, spec] of Object.entries(def.params)) {
    const v = input[name];
    if (v === undefined || v === null || v === '') {
      if (spec.type === 'boolean' && v === '') {
        out[name] = true;
        continue;
      }
      if (spec.required) throw new BadRequestError(`parameter "${name}" is required (${spec.description})`);
      if (spec.default !== undefined) out[name] = spec.default;
      continue;
    }
    out[name] = coerce(name, spec, v);
  }
  return out;
}
