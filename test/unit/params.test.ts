import { expect } from 'chai';
import { BadRequestError, ForbiddenError } from '../../app/errors.js';
import { assertMayRun } from '../../app/policy.js';
import { getTask, requireTask, validateParams } from '../../app/tasks/index.js';

describe('task parameters', () => {
  const print = getTask('print')!;

  it('coerces strings from the command line and fills defaults', () => {
    expect(validateParams(print, { lines: '5000', stderr: 'true' })).to.deep.equal({
      lines: 5000,
      width: 0,
      stderr: true,
      delay: 0,
      pid: false,
      leak: 0,
    });
  });

  it('refuses unknown parameters, naming the ones the task takes', () => {
    expect(() => validateParams(print, { colour: 'red' })).to.throw(BadRequestError, /unknown parameter "colour" for task "print"; it takes: lines, width/);
  });

  it('refuses values of the wrong type or out of range', () => {
    expect(() => validateParams(print, { lines: 'many' })).to.throw(/parameter "lines" must be a number/);
    expect(() => validateParams(print, { lines: 1.5 })).to.throw(/must be a whole number/);
    expect(() => validateParams(print, { lines: -1 })).to.throw(/must be at least 0/);
    expect(() => validateParams(print, { stderr: 'perhaps' })).to.throw(/must be true or false/);
    expect(() => validateParams(print, [1, 2])).to.throw(/params must be an object/);
  });

  it('names the tasks there are when a task is unknown', () => {
    expect(() => requireTask('frobnicate')).to.throw(BadRequestError, /unknown task "frobnicate"; tasks: .*noop/);
    expect(() => requireTask(42)).to.throw(/a task name is required/);
  });

  it('keeps diagnostic tasks for administrators and the command line', () => {
    expect(() => assertMayRun(print, { id: 2, username: 'ann', role: 'archivist' })).to.throw(ForbiddenError);
    expect(() => assertMayRun(print, { id: 1, username: 'admin', role: 'admin' })).to.not.throw();
    expect(() => assertMayRun(print, null)).to.not.throw();
  });
});
