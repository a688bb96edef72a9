// Reply lines in the shape of the request's form. JSON requests (the KVDB brief):
// {"status": "OK", "result": ...} / {"status": "ERROR", "message": "..."}. Plain lines (the
// hatch-kvs brief): {"status": "Ok", "result": ...} / {"status": "Error", "mesg": "..."}, with
// no "result" when a command has none. Spacing follows Python's json.dumps, as both briefs show.
import type { Output } from '../output.js';
import { Form } from './request.js';

/** What a command answers: a value, or nothing worth a "result". */
export type Result = string | number | boolean | null;
export const NO_RESULT: unique symbol = Symbol('no result');

export function replyOk(out: Output, form: Form, result: Result | typeof NO_RESULT): void {
  if (form === Form.Json) {
    write(out, `{"status": "OK", "result": ${result === NO_RESULT ? 'null' : JSON.stringify(result)}}\n`);
  } else if (result === NO_RESULT) {
    write(out, '{"status": "Ok"}\n');
  } else {
    write(out, `{"status": "Ok", "result": ${JSON.stringify(result)}}\n`);
  }
}

export function replyError(out: Output, form: Form, message: string): void {
  if (form === Form.Json) write(out, `{"status": "ERROR", "message": ${JSON.stringify(message)}}\n`);
  else write(out, `{"status": "Error", "mesg": ${JSON.stringify(message)}}\n`);
}

function write(out: Output, s: string): void {
  const b = out.ensure(Buffer.byteLength(s));
  out.pos += b.write(s, out.pos, 'utf8');
}
