import type { ConfigField } from '../api/types';
import { fieldOf, initialValues, toConfig, validateConfig } from './config-form';

const fields: ConfigField[] = [
  {
    name: 'namespace',
    type: 'string',
    description: '',
    required: true,
    pattern: '^[a-z0-9-]+$',
    pattern_description: 'a DNS-1123 label',
  },
  {
    name: 'interval_seconds',
    type: 'integer',
    description: '',
    required: false,
    default: 10,
    minimum: 1,
    maximum: 3600,
  },
  {
    name: 'log_level',
    type: 'enum',
    description: '',
    required: false,
    default: 'info',
    enum: ['debug', 'info'],
  },
  { name: 'collect_pods', type: 'boolean', description: '', required: false, default: true },
];

describe('the add-agent form built from a type’s config schema', () => {
  it('starts a required choice without a default at its first option, as the select shows it', () => {
    const mode: ConfigField = {
      name: 'mode',
      type: 'enum',
      description: '',
      required: true,
      enum: ['a', 'b'],
    };
    expect(initialValues([mode])).toEqual({ mode: 'a' });
  });

  it('starts from the schema defaults', () => {
    expect(initialValues(fields)).toEqual({
      namespace: '',
      interval_seconds: '10',
      log_level: 'info',
      collect_pods: true,
    });
  });

  it('names each field that breaks its rule, with the rule', () => {
    const errors = validateConfig(fields, {
      namespace: 'Bad Name',
      interval_seconds: '0',
      log_level: 'verbose',
      collect_pods: false,
    });
    expect(errors).toEqual({
      namespace: 'namespace must be a DNS-1123 label',
      interval_seconds: 'interval_seconds must be at least 1',
      log_level: 'log_level must be one of debug, info',
    });
    expect(validateConfig(fields, { ...initialValues(fields), interval_seconds: '2.5' })).toMatchObject({
      namespace: 'namespace is required',
      interval_seconds: 'interval_seconds must be a whole number',
    });
  });

  it('sends typed values and leaves empty optional fields to the server’s defaults', () => {
    expect(
      toConfig(fields, {
        namespace: ' monitoring ',
        interval_seconds: '',
        log_level: 'debug',
        collect_pods: false,
      }),
    ).toEqual({ namespace: 'monitoring', log_level: 'debug', collect_pods: false });
    expect(fieldOf('config.namespace')).toBe('namespace');
    expect(fieldOf('environment_name')).toBe('environment_name');
  });
});
