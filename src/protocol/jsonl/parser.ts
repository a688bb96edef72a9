// Turns one line into a Request or a BadRequest: a line starting with `{` is a JSON request,
// any other line a plain command (verb, key, and for PUT/SET the rest of the line as value).
import { Form, TTL_MAX, type BadRequest, type Request, type Verb } from './request.js';

/** Verbs and their synonyms, upper case (both forms match case-insensitively). */
const VERBS = new Map<string, Verb>([
  ['SET', 'SET'],
  ['PUT', 'SET'],
  ['GET', 'GET'],
  ['DELETE', 'DELETE'],
  ['DEL', 'DELETE'],
  ['INCR', 'INCR'],
  ['DECR', 'DECR'],
  ['EXPIRE', 'EXPIRE'],
  ['TTL', 'TTL'],
  ['PING', 'PING'],
  ['START', 'START'],
  ['BEGIN', 'START'],
  ['COMMIT', 'COMMIT'],
  ['ROLLBACK', 'ROLLBACK'],
  ['EXIT', 'EXIT'],
  ['QUIT', 'EXIT'],
  ['AUTH', 'AUTH'],
]);

/** What each verb takes: a key, a value, a ttl. */
const SHAPE: Record<Verb, { key: boolean; value: boolean; ttl: 'none' | 'optional' | 'required' }> = {
  SET: { key: true, value: true, ttl: 'optional' },
  GET: { key: true, value: false, ttl: 'none' },
  DELETE: { key: true, value: false, ttl: 'none' },
  INCR: { key: true, value: false, ttl: 'none' },
  DECR: { key: true, value: false, ttl: 'none' },
  EXPIRE: { key: true, value: false, ttl: 'required' },
  TTL: { key: true, value: false, ttl: 'none' },
  PING: { key: false, value: false, ttl: 'none' },
  START: { key: false, value: false, ttl: 'none' },
  COMMIT: { key: false, value: false, ttl: 'none' },
  ROLLBACK: { key: false, value: false, ttl: 'none' },
  EXIT: { key: false, value: false, ttl: 'none' },
  AUTH: { key: true, value: true, ttl: 'none' },
};

export type Parsed = { ok: true; request: Request } | { ok: false; bad: BadRequest };

const bad = (form: Form, message: string): Parsed => ({ ok: false, bad: { form, message } });

/** Parse the line buf[start, end) (its newline, and a CR before it, already cut off). */
export function parseLine(buf: Buffer, start: number, end: number): Parsed {
  const text = buf.toString('utf8', start, end);
  return buf[start] === 0x7b ? parseJson(text) : parsePlain(text);
}

function parseJson(text: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return bad(Form.Json, `malformed JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) return bad(Form.Json, 'a request is a JSON object with "command" and "args"');
  const command = doc.command;
  if (typeof command !== 'string') return bad(Form.Json, '"command" must be a string');
  const verb = VERBS.get(command.toUpperCase());
  if (verb === undefined) return bad(Form.Json, `unknown command "${command}"`);
  const args = doc.args ?? {};
  if (!isObject(args)) return bad(Form.Json, '"args" must be an object');
  const shape = SHAPE[verb];
  // AUTH names its two strings as a person would
  const keyName = verb === 'AUTH' ? 'username' : 'key';
  const valueName = verb === 'AUTH' ? 'password' : 'value';
  let key = '';
  let value = '';
  let ttl = 0;
  if (shape.key) {
    const k = args[keyName];
    if (k === undefined) return bad(Form.Json, `${verb} needs "args.${keyName}"`);
    if (typeof k !== 'string') return bad(Form.Json, `"args.${keyName}" must be a string`);
    key = k;
  }
  if (shape.value) {
    const v = args[valueName];
    if (v === undefined) return bad(Form.Json, `${verb} needs "args.${valueName}"`);
    if (typeof v !== 'string') return bad(Form.Json, `"args.${valueName}" must be a string`);
    value = v;
  }
  if (shape.ttl !== 'none') {
    const t = args.ttl;
    if (t === undefined || t === null) {
      if (shape.ttl === 'required') return bad(Form.Json, `${verb} needs "args.ttl"`);
    } else {
      const checked = checkTtl(Form.Json, verb, t);
      if (typeof checked !== 'number') return checked;
      ttl = checked;
    }
  }
  return { ok: true, request: { form: Form.Json, verb, key, value, ttl } };
}

function parsePlain(text: string): Parsed {
  // the verb and the key end at a space; PUT/SET's value is the rest after one space
  const s1 = text.indexOf(' ');
  const word = s1 < 0 ? text : text.slice(0, s1);
  const verb = VERBS.get(word.toUpperCase());
  if (verb === undefined) return bad(Form.Plain, `unknown command "${word}"`);
  const shape = SHAPE[verb];
  const rest = s1 < 0 ? '' : text.slice(s1 + 1);
  if (!shape.key) {
    if (rest.trim() !== '') return bad(Form.Plain, `${verb} takes no arguments`);
    return { ok: true, request: { form: Form.Plain, verb, key: '', value: '', ttl: 0 } };
  }
  const s2 = rest.indexOf(' ');
  const key = s2 < 0 ? rest : rest.slice(0, s2);
  const after = s2 < 0 ? null : rest.slice(s2 + 1);
  if (key === '') return bad(Form.Plain, usage(verb));
  if (shape.value) {
    if (after === null) return bad(Form.Plain, usage(verb));
    return { ok: true, request: { form: Form.Plain, verb, key, value: after, ttl: 0 } };
  }
  if (shape.ttl === 'required') {
    if (after === null || !/^-?\d+$/.test(after)) return bad(Form.Plain, usage(verb));
    const checked = checkTtl(Form.Plain, verb, Number(after));
    if (typeof checked !== 'number') return checked;
    return { ok: true, request: { form: Form.Plain, verb, key, value: '', ttl: checked } };
  }
  if (after !== null && after.trim() !== '') return bad(Form.Plain, usage(verb));
  return { ok: true, request: { form: Form.Plain, verb, key, value: '', ttl: 0 } };
}

/** SET's ttl: 1..TTL_MAX; EXPIRE's: any integer up to TTL_MAX (<= 0 deletes, as Redis). */
function checkTtl(form: Form, verb: Verb, t: unknown): number | Parsed {
  const min = verb === 'SET' ? 1 : -TTL_MAX;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < min || t > TTL_MAX) {
    return bad(form, `"ttl" must be an integer number of seconds from ${min} to ${TTL_MAX}`);
  }
  return t;
}

function usage(verb: Verb): string {
  switch (verb) {
    case 'SET':
      return 'usage: PUT <key> <value> (the value is the rest of the line)';
    case 'EXPIRE':
      return 'usage: EXPIRE <key> <seconds>';
    case 'AUTH':
      return 'usage: AUTH <user> <password>';
    default:
      return `usage: ${verb} <key>`;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
