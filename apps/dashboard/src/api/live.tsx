import { createContext, ReactNode, useContext, useEffect, useRef, useState } from 'react';
import type { LiveEvent } from './types';
import { SseParser } from './sse-parser';

export type LiveState = 'connecting' | 'live' | 'reconnecting';
type Listener = (event: LiveEvent) => void;

interface LiveContextValue {
  state: LiveState;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveContextValue>({
  state: 'connecting',
  subscribe: () => () => undefined,
});

const MAX_BACKOFF_MS = 30_000;

/**
 * One live connection per signed-in tab to GET /api/v1/events/stream. It is read with fetch()
 * rather than EventSource so the API key goes in the Authorization header, never in a URL.
 * Reconnects with capped, jittered backoff; views reload their data when it comes back.
 */
export function LiveEventsProvider({ apiKey, children }: { apiKey: string; children: ReactNode }) {
  const [state, setState] = useState<LiveState>('connecting');
  const listeners = useRef(new Set<Listener>());
  const value = useRef<LiveContextValue>({
    state,
    subscribe(listener) {
      listeners.current.add(listener);
      return () => listeners.current.delete(listener);
    },
  });

  useEffect(() => {
    const controller = new AbortController();
    let attempt = 0;
    let timer: number | undefined;

    const connect = async () => {
      try {
        const response = await fetch('/api/v1/events/stream', {
          headers: { Accept: 'text/event-stream', Authorization: `Bearer ${apiKey}` },
          signal: controller.signal,
          cache: 'no-store',
        });
        if (!response.ok || !response.body) throw new Error(`live stream refused: HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        for (;;) {
          const { value: chunk, done } = await reader.read();
          if (done) break;
          for (const frame of parser.push(chunk)) {
            if (frame.event === 'ready') {
              attempt = 0;
              setState('live');
              continue;
            }
            if (frame.event === 'ping') continue;
            const event = JSON.parse(frame.data) as LiveEvent;
            for (const listener of [...listeners.current]) listener(event);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        console.warn('live events:', error);
      }
      if (controller.signal.aborted) return;
      setState('reconnecting');
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      timer = window.setTimeout(connect, delay);
    };

    void connect();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [apiKey]);

  value.current = { ...value.current, state };
  return <LiveContext.Provider value={value.current}>{children}</LiveContext.Provider>;
}

/** Calls `onEvent` for each live event while the component is mounted. */
export function useLiveEvents(onEvent: Listener): void {
  const { subscribe } = useContext(LiveContext);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => subscribe((event) => handler.current(event)), [subscribe]);
}

export function useLiveState(): LiveState {
  return useContext(LiveContext).state;
}
