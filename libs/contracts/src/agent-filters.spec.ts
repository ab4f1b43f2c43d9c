import { AgentSelector, BulkAgentsRequest } from './fleet-lifecycle';
import { ListAgentsRequest } from './provisioning';
import { ValidationFailedError } from './errors';
import { validateDto } from './validation';

/** The field errors `validateDto` throws for `value`, by field (none when it passes). */
function fieldErrors(cls: new () => object, value: object): Record<string, string> {
  try {
    validateDto(cls, value);
    return {};
  } catch (error) {
    if (!(error instanceof ValidationFailedError)) throw error;
    return Object.fromEntries((error.errors ?? []).map((f) => [f.field, f.reason]));
  }
}

const BAD_FILTERS = {
  environment: 'Not Valid',
  status: 'gone',
  type: 'x'.repeat(65),
  label: 7,
  search: 'y'.repeat(201),
};

describe('the agents filter (WithAgentFilters)', () => {
  it('refuses the same bad filters with the same reasons on the agents list and a bulk selector', () => {
    const list = fieldErrors(ListAgentsRequest, { organizationId: 'org', ...BAD_FILTERS });
    expect(Object.keys(list).sort()).toEqual(Object.keys(BAD_FILTERS).sort());
    expect(fieldErrors(AgentSelector, BAD_FILTERS)).toEqual(list);
  });

  it('takes every filter on both, and page and sort on the list only', () => {
    const filters = {
      environment: 'prod-1',
      status: 'online',
      type: 'docker',
      label: 'team=a',
      search: 'web',
    };
    expect(
      fieldErrors(ListAgentsRequest, { organizationId: 'org', ...filters, sort: '-hostname', limit: 5 }),
    ).toEqual({});
    expect(fieldErrors(AgentSelector, filters)).toEqual({});
    expect(
      Object.keys(fieldErrors(AgentSelector, { sort: 'hostname', limit: 5, organizationId: 'org' })).sort(),
    ).toEqual(['limit', 'organizationId', 'sort']);
  });

  it('checks a bulk request filter as a selector', () => {
    const errors = fieldErrors(BulkAgentsRequest, {
      organizationId: 'org',
      action: 'revoke',
      filter: { status: 'gone' },
    });
    expect(Object.keys(errors)).toEqual(['filter.status']);
  });
});
