// What a cache command did, as values: the protocols turn them into their own replies
// (memcached's STORED/NOT_STORED/EXISTS/NOT_FOUND, HTTP statuses, JSON objects).

export const Outcome = {
  Stored: 0,
  NotStored: 1,
  Exists: 2,
  NotFound: 3,
  TooLarge: 4,
  NoMemory: 5,
  NonNumeric: 6,
  Deleted: 7,
  Touched: 8,
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const StoreMode = { Set: 1, Add: 2, Replace: 3, Append: 4, Prepend: 5, Cas: 6 } as const;
export type StoreMode = (typeof StoreMode)[keyof typeof StoreMode];

/** Why a lookup missed, for get_expired / get_flushed. */
export const Miss = { None: 0, Absent: 1, Expired: 2, Flushed: 3 } as const;
export type Miss = (typeof Miss)[keyof typeof Miss];
