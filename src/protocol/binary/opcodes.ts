// Binary protocol numbers: magic bytes, opcodes, status codes and the error texts memcached
// 1.6.18 sends with them (protocol_binary.h, proto_bin.c write_bin_error()).

export const REQ_MAGIC = 0x80;
export const RES_MAGIC = 0x81;
export const HEADER_LEN = 24;

export const Op = {
  Get: 0x00,
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Quit: 0x07,
  Flush: 0x08,
  GetQ: 0x09,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  AddQ: 0x12,
  ReplaceQ: 0x13,
  DeleteQ: 0x14,
  IncrementQ: 0x15,
  DecrementQ: 0x16,
  QuitQ: 0x17,
  FlushQ: 0x18,
  AppendQ: 0x19,
  PrependQ: 0x1a,
  /** Defined in protocol_binary.h but not served by memcached 1.6.18: Unknown command. */
  Verbosity: 0x1b,
  Touch: 0x1c,
  Gat: 0x1d,
  GatQ: 0x1e,
  SaslListMechs: 0x20,
  SaslAuth: 0x21,
  SaslStep: 0x22,
  GatK: 0x23,
  GatKQ: 0x24,
} as const;

export const Status = {
  Success: 0x0000,
  KeyNotFound: 0x0001,
  KeyExists: 0x0002,
  TooLarge: 0x0003,
  InvalidArguments: 0x0004,
  NotStored: 0x0005,
  DeltaBadValue: 0x0006,
  AuthError: 0x0020,
  AuthContinue: 0x0021,
  UnknownCommand: 0x0081,
  OutOfMemory: 0x0082,
  /** The binary protocol's ETMPFAIL: a change refused while the journal cannot write. */
  TemporaryFailure: 0x0086,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** The text memcached puts in the body of an error response when it has no specific one. */
export const STATUS_TEXT: ReadonlyMap<number, Buffer> = new Map(
  (
    [
      [Status.OutOfMemory, 'Out of memory'],
      [Status.UnknownCommand, 'Unknown command'],
      [Status.KeyNotFound, 'Not found'],
      [Status.InvalidArguments, 'Invalid arguments'],
      [Status.KeyExists, 'Data exists for key.'],
      [Status.TooLarge, 'Too large.'],
      [Status.DeltaBadValue, 'Non-numeric server-side value for incr or decr'],
      [Status.NotStored, 'Not stored.'],
      [Status.AuthError, 'Auth failure.'],
    ] as Array<[number, string]>
  ).map(([s, t]) => [s, Buffer.from(t, 'latin1')]),
);

/**
 * The quiet opcodes and the loud command each stands for (proto_bin.c dispatch_bin_command).
 * A quiet get stays silent on a miss, every other quiet command on success.
 */
export const QUIET_OF: ReadonlyMap<number, number> = new Map([
  [Op.SetQ, Op.Set],
  [Op.AddQ, Op.Add],
  [Op.ReplaceQ, Op.Replace],
  [Op.DeleteQ, Op.Delete],
  [Op.IncrementQ, Op.Increment],
  [Op.DecrementQ, Op.Decrement],
  [Op.QuitQ, Op.Quit],
  [Op.FlushQ, Op.Flush],
  [Op.AppendQ, Op.Append],
  [Op.PrependQ, Op.Prepend],
  [Op.GetQ, Op.Get],
  [Op.GetKQ, Op.GetK],
  [Op.GatQ, Op.Gat],
  [Op.GatKQ, Op.GatK],
]);
