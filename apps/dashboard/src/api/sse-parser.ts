/** One Server-Sent Events frame. */
export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

/**
 * Incremental text/event-stream parser (the subset the gateway sends: event, data, id,
 * comments). Fed arbitrary chunks; returns the frames completed by each chunk.
 */
export class SseParser {
  private buffer = '';

  push(chunk: string): SseFrame[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const frames: SseFrame[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: SseFrame = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') frame.event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') frame.id = value;
      }
      if (data.length === 0) continue;
      frame.data = data.join('\n');
      frames.push(frame);
    }
    return frames;
  }
}
