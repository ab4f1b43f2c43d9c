import { SseParser } from './sse-parser';

describe(SseParser.name, () => {
  it('returns a frame only once its blank line has arrived, however the chunks are cut', () => {
    const parser = new SseParser();
    expect(parser.push('event: agent.offline\nid: e1\nda')).toEqual([]);
    expect(parser.push('ta: {"agent_id":"ag_1"}\n')).toEqual([]);
    expect(parser.push('\nevent: ping\ndata: {}\n\n')).toEqual([
      { event: 'agent.offline', id: 'e1', data: '{"agent_id":"ag_1"}' },
      { event: 'ping', data: '{}' },
    ]);
  });

  it('joins multi-line data, accepts CRLF and skips comments and data-less frames', () => {
    const parser = new SseParser();
    expect(parser.push(': keep-alive\r\n\r\nevent: x\r\n\r\ndata: a\r\ndata: b\r\n\r\n')).toEqual([
      { event: 'message', data: 'a\nb' },
    ]);
  });
});
