// The segments of memcached 1.6's LRU (items.c: HOT_LRU, WARM_LRU, COLD_LRU): which list of
// its class an item is on, kept in two item flag bits so unlinking needs no lookup, and the
// list index of a (class, segment) pair in the per-list arrays of Lru.
import { IF_HOT, IF_WARM } from './item.js';

/** Segment numbers. COLD is 0 so an item with neither flag bit (flat mode, an old snapshot) is COLD. */
export const COLD = 0;
export const HOT = 1;
export const WARM = 2;
/** List slots per class: COLD, HOT, WARM and one unused (memcached's TEMP_LRU, off by default). */
export const SEGMENTS = 4;
export const SEGMENT_NAMES = ['cold', 'hot', 'warm'] as const;

/** The item flag bits that name the segment. */
export const IF_SEGMENT = IF_HOT | IF_WARM;

/** The list of class `cls` and segment `seg`. */
export const lruOf = (cls: number, seg: number): number => (cls << 2) | seg;

/** The segment an item's flags name. */
export const segmentOf = (iflags: number): number => ((iflags & IF_HOT) !== 0 ? HOT : (iflags & IF_WARM) !== 0 ? WARM : COLD);

/** The flag bits for a segment. */
export const segmentFlags = (seg: number): number => (seg === HOT ? IF_HOT : seg === WARM ? IF_WARM : 0);

/**
 * memcached's segmented-LRU settings (`stats settings`: hot_lru_pct, warm_lru_pct,
 * hot_max_factor, warm_max_factor; `-o no_lru_maintainer` turns segmentation off).
 */
export class LruTuning {
  /** memcached's lru_maintainer_thread: off with `-o no_lru_maintainer`, which also makes the LRU flat. */
  maintainer = true;
  /** memcached's lru_segmented: `lru mode flat|segmented` switches it while running. */
  segmented = true;
  /** Share of a class's items HOT may hold before its tail moves on (percent). */
  hotPct = 20;
  /** Share of a class's items WARM may hold before its inactive tail goes to COLD (percent). */
  warmPct = 40;
  /** HOT's tail moves on once older than this times the COLD tail's age. */
  hotMaxFactor = 0.2;
  /** WARM's inactive tail goes to COLD once older than this times the COLD tail's age. */
  warmMaxFactor = 2.0;
}
