// Server-sent events over fetch, so the bearer token travels as a header
// (EventSource cannot send one). Reconnects after a dropped connection,
// with Last-Event-ID when the stream gave ids; stops after an `end`
// event, an error answer, or close().

import { authHeaders } from './token.js';
import { failure } from './api.js';

const RETRY_MS = 1500;

/**
 * Opens the stream at `path`. Callbacks: onEvent({event, id, data}) with
 * data parsed as JSON; onStatus(true|false) as the connection opens and
 * drops; onError(ApiError) when the server refuses it (then it stops).
 * Returns { close() }.
 */
export function openStream(path, { onEvent, onStatus = () => {}, onError = () => {} }) {
  const abort = new AbortController();
  let lastId = null;
  let stopped = false;

  const dispatch = (block) => {
    let event = 'message';
    let id = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (id !== null) lastId = id;
    if (data.length === 0) return;
    const text = data.join('\n');
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Kept as text.
    }
    if (event === 'end') stopped = true;
    onEvent({ event, id, data: parsed });
  };

  const run = async () => {
    while (!stopped) {
      try {
        const headers = { Accept: 'text/event-stream', ...authHeaders() };
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        const res = await fetch(path, { headers, signal: abort.signal });
        if (!res.ok) {
          stopped = true;
          onError(await failure(res));
          break;
        }
        onStatus(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let at;
          while ((at = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at).replace(/^\r?\n\r?\n/, '');
            dispatch(block);
          }
        }
      } catch (e) {
        if (abort.signal.aborted) return;
      }
      onStatus(false);
      if (!stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  };
  run();
  return {
    close() {
      stopped = true;
      abort.abort();
    },
  };
}
