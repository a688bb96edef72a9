// A parsed JSON-lines request, the same for both forms: a JSON object
// ({"command": "SET", "args": {...}}) or a plain line (PUT k v). Parse, then execute, then
// encode: the parser fills this and never touches the cache.

/** The two forms a request can take; each reply uses the shape of its request's form. */
export const Form = { Json: 0, Plain: 1 } as const;
export type Form = (typeof Form)[keyof typeof Form];

export type Verb =
  | 'SET'
  | 'GET'
  | 'DELETE'
  | 'INCR'
  | 'DECR'
  | 'EXPIRE'
  | 'TTL'
  | 'PING'
  | 'START'
  | 'COMMIT'
  | 'ROLLBACK'
  | 'EXIT'
  | 'AUTH';

export interface Request {
  readonly form: Form;
  readonly verb: Verb;
  /** SET GET DELETE INCR DECR EXPIRE TTL; the user name for AUTH. */
  readonly key: string;
  /** SET; the password for AUTH. */
  readonly value: string;
  /** SET (0 = no expiry), EXPIRE (<= 0 deletes), in seconds. */
  readonly ttl: number;
}

/** A line that is not a valid request: the error reply, in the line's form. */
export interface BadRequest {
  readonly form: Form;
  readonly message: string;
}

/** The longest TTL accepted, in seconds (about 31 years; absolute times stay in 32 bits). */
export const TTL_MAX = 1_000_000_000;
