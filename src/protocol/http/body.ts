// Reading a request body, bounded: a body is handed on only once it has fully arrived
// (Content-Length reached or the last chunk seen); a client that disconnects, or is closed for
// stalling, hands on nothing. The chunks are kept as node delivers them and handed on as they
// are, never joined: the store copies each into the item (the one copy of every byte).
import type { IncomingMessage } from 'node:http';

export interface BodyHandlers {
  /** The whole body, once it has arrived: `chunks` in order, `length` bytes in all. */
  done(chunks: readonly Buffer[], length: number): void;
  /** More bytes than `fits` allows arrived (a chunked upload past -I); nothing was kept. */
  tooLarge(): void;
}

/** Read `req`'s body while `fits(bytesSoFar)` holds. */
export function readBody(req: IncomingMessage, fits: (length: number) => boolean, h: BodyHandlers): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let over = false;
  const onData = (chunk: Buffer): void => {
    if (over) return;
    length += chunk.length;
    if (!fits(length)) {
      over = true;
      chunks.length = 0;
      h.tooLarge();
      return;
    }
    chunks.push(chunk);
  };
  req.on('data', onData);
  req.once('end', () => {
    // `end` comes only when the message is complete (node checks Content-Length and the
    // chunked terminator); a cut-off upload ends with `close` and an `aborted` error instead
    if (over || !req.complete) return;
    h.done(chunks, length);
  });
  // a cut-off upload: node reports an error on the request; nothing is stored
  req.on('error', () => {
    chunks.length = 0;
  });
}
