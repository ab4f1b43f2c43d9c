import { formFromSettings, settingsFromForm } from './config-types';

describe('the configuration form', () => {
  it('keeps app_metrics sections set through the API when the form is saved again', () => {
    const settings = {
      log_level: 'debug' as const,
      app_metrics: { scrape_targets: [{ url: 'http://127.0.0.1:9100/metrics', job: 'node' }] },
    };
    expect(settingsFromForm(formFromSettings(settings))).toEqual(settings);
  });

  it('leaves app_metrics out when the field is blank', () => {
    expect(settingsFromForm({ ...formFromSettings(null), app_metrics: '  ' })).toEqual({});
  });

  it('says the sections are not valid JSON rather than sending them', () => {
    expect(() =>
      settingsFromForm({ ...formFromSettings(null), app_metrics: '{"scrape_targets": [' }),
    ).toThrow(/^Application metrics: not valid JSON/);
  });
});
