import { ExposedSample, ExpositionParseError, parseExposition } from './exposition-parser';

const parse = (text: string) => {
  const out: ExposedSample[] = [];
  parseExposition(text, (s) => out.push(s));
  return out;
};

describe(parseExposition.name, () => {
  it('reads OpenMetrics text: exemplars and timestamps ignored, nothing after # EOF', () => {
    const text = [
      '# TYPE rpc_seconds histogram',
      '# UNIT rpc_seconds seconds',
      'rpc_seconds_bucket{le="0.5"} 3 # {trace_id="abc"} 0.2 1700000000.1',
      'rpc_seconds_bucket{le="+Inf"} 4 1700000000',
      'rpc_seconds_created 1.7e9',
      '# EOF',
      'after_eof 1',
    ].join('\n');
    expect(parse(text)).toEqual([
      { name: 'rpc_seconds_bucket', labels: { le: '0.5' }, value: 3 },
      { name: 'rpc_seconds_bucket', labels: { le: '+Inf' }, value: 4 },
      { name: 'rpc_seconds_created', labels: {}, value: 1.7e9 },
    ]);
  });

  it('unescapes label values and reads special values', () => {
    expect(parse('m{path="C:\\\\x",msg="say \\"hi\\"\\n",} NaN\nn -Inf\r\n')).toEqual([
      { name: 'm', labels: { path: 'C:\\x', msg: 'say "hi"\n' }, value: NaN },
      { name: 'n', labels: {}, value: -Infinity },
    ]);
  });

  it.each([
    ['a value that is not a number', 'm 12abc', /line 1: invalid value/],
    ['an unterminated label value', 'm{a="x} 1', /line 1: unterminated value of label a/],
    ['a label given twice', 'm{a="1",a="2"} 1', /line 1: label a given twice/],
    ['a missing value', '\nm{a="1"}', /line 2: missing value/],
  ])('refuses %s, naming the line', (_, text, message) => {
    expect(() => parse(text)).toThrow(ExpositionParseError);
    expect(() => parse(text)).toThrow(message);
  });
});
