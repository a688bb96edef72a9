// Meta request/reply cases shared by the in-process split tests and the differential test.
// Expected bytes are what memcached 1.6.18 answered to the same input on a fresh server;
// `advance` moves the in-process ManualClock (the differential test leaves those steps out).

export type Step = { send: string; expect: string; client?: number } | { advance: number };
export type Case = { name: string; steps: Step[] };

export const CASES: Case[] = [
  {
    name: 'ms then mg with every return flag',
    steps: [
      { send: 'ms a 2 T0 F5\r\nhi\r\n', expect: 'HD\r\n' },
      { send: 'mg a v f t c k s h l\r\n', expect: 'VA 2 f5 t-1 c1 ka s2 h0 l0\r\nhi\r\n' },
      { send: 'mg a h\r\n', expect: 'HD h1\r\n' },
      { send: 'me a\r\n', expect: 'ME a exp=-1 la=0 cas=1 fetch=yes cls=1 size=66\r\n' },
    ],
  },
  {
    name: 'q hides misses and HD, mn closes the pipeline',
    steps: [
      {
        send: 'ms q1 1 q\r\na\r\nmg q1 v q\r\nmg q2 v q\r\nmd q2 q\r\nmd q1 q\r\nma q3 q\r\nmn\r\n',
        expect: 'VA 1\r\na\r\nNF\r\nNF\r\nMN\r\n',
      },
      { send: 'mg nope k O123 q\r\nmg nope k O123\r\nmn\r\n', expect: 'EN knope O123\r\nMN\r\n' },
      { send: 'mg q2 q\r\nms q2 1\r\nb\r\nmg q2 q\r\n', expect: 'HD\r\nHD\r\n' },
    ],
  },
  {
    name: 'flag errors',
    steps: [
      { send: 'ms a 1\r\nx\r\n', expect: 'HD\r\n' },
      {
        send: 'mg a zz\r\nmg a v v\r\nmg a Tx Nx\r\nmg a Tx zz\r\nmd a zz\r\nma a zz\r\n',
        expect:
          'CLIENT_ERROR invalid flag\r\nCLIENT_ERROR duplicate flag\r\nCLIENT_ERROR bad token in command line format\r\n' +
          'CLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\n',
      },
      {
        send: 'mg Zm9v! b k\r\nmg Zm9 b\r\nmg Zm9 b Tx\r\nmd Zm9 b\r\nme Zm9 b\r\n',
        expect:
          'EN kZm9v b\r\nCLIENT_ERROR error decoding key\r\nCLIENT_ERROR bad token in command line format\r\n' +
          'CLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR bad command line format\r\n',
      },
      {
        send: 'mg a O123456789012345678901234567890123\r\nmg a O12345678901234567890123456789012\r\nmg nope O1234567890123456789012345678901 q\r\n',
        expect: 'CLIENT_ERROR opaque token too long\r\nCLIENT_ERROR opaque token too long\r\n',
      },
      {
        send: 'mg a 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\r\nmg a c f k s t h l u v q O1 P L b\r\n',
        expect: 'CLIENT_ERROR options flags are too long\r\nCLIENT_ERROR error decoding key\r\n',
      },
      { send: 'mg a \x80\r\nmg a E1\r\nmg a x\r\n', expect: 'CLIENT_ERROR duplicate flag\r\nCLIENT_ERROR invalid flag\r\nCLIENT_ERROR invalid flag\r\n' },
      {
        send: 'ms\r\nms c\r\nmg\r\nmd\r\nma\r\nme\r\nmx a\r\n',
        expect: 'ERROR\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nERROR\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n',
      },
    ],
  },
  {
    name: 'ms errors swallow the data block once its length is known',
    steps: [
      {
        send: 'ms c 2 MX\r\nhi\r\nms c 2 MSS\r\nhi\r\nms c 2 Fabc\r\nhi\r\nms c 2 C5 c\r\nhi\r\nms c 2 c k O1\r\nhi\r\nms c 2 C5 c k\r\nhi\r\nms c 2 q\r\nhix\r\n',
        expect:
          'CLIENT_ERROR invalid mode for ms M token\r\nCLIENT_ERROR incorrect length for M token\r\nCLIENT_ERROR bad command line format\r\n' +
          'NF c0\r\nHD c1 kc O1\r\nEX c0 kc\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\n',
      },
      {
        send: 'ms b 4294967298\r\nhi\r\nms b -1\r\nhi\r\nms b abc\r\nhi\r\n',
        expect: 'HD\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n',
      },
      {
        send: 'ms lk 2 C Mx\r\nhi\r\nms lk 2 O123456789012345678901234567890123 Mx\r\nhi\r\nms lk 2 O123456789012345678901234567890123\r\nhi\r\nms lk 2 b\r\nhi\r\n',
        expect:
          'CLIENT_ERROR bad token in command line format\r\nCLIENT_ERROR invalid mode for ms M token\r\n' +
          'CLIENT_ERROR opaque token too long\r\nCLIENT_ERROR error decoding key\r\n',
      },
    ],
  },
  {
    name: 'ms modes',
    steps: [
      {
        send: 'ms e 3 ME\r\nabc\r\nms e 3 ME c\r\nabc\r\nms e 1 MA\r\nd\r\nms e 1 MP\r\nz\r\nmg e v c\r\n',
        expect: 'HD\r\nNS c0\r\nHD\r\nHD\r\nVA 5 c3\r\nzabcd\r\n',
      },
      {
        send: 'ms e2 1 MA\r\nd\r\nms e2 1 MR\r\nd\r\nms e 1 MR C1\r\nd\r\nms e 1 MA C1\r\nd\r\nms e 1 MA I C1\r\nd\r\nms e 1 MS I C1\r\nd\r\nmg e v\r\n',
        expect: 'NS\r\nNS\r\nEX\r\nEX\r\nEX\r\nHD\r\nVA 1 X W\r\nd\r\n',
      },
      { send: 'ms f 2 F4294967295 T0\r\nhi\r\nmg f f\r\nms f 0\r\n\r\nmg f v s f\r\n', expect: 'HD\r\nHD f4294967295\r\nHD\r\nVA 0 s0 f0\r\n\r\n' },
      { send: 'ms f 2 F4294967296\r\nhi\r\nmg f f\r\nms f 2 F-1\r\nhi\r\n', expect: 'HD\r\nHD f0\r\nCLIENT_ERROR bad command line format\r\n' },
    ],
  },
  {
    name: 'stale items and win tokens (md I, ms I)',
    steps: [
      { send: 'ms s 2 T100\r\nhi\r\nmg s t v c\r\nmd s I T30\r\n', expect: 'HD\r\nVA 2 t100 c1\r\nhi\r\nHD\r\n' },
      { send: 'mg s t v c\r\n', expect: 'VA 2 t30 c2 X W\r\nhi\r\n' },
      { send: 'mg s t v c\r\n', expect: 'VA 2 t30 c2 Z X\r\nhi\r\n', client: 1 },
      { send: 'ms s 3 C1 I\r\nnew\r\nmg s v c t\r\n', expect: 'HD\r\nVA 3 c3 t30 Z X\r\nnew\r\n' },
      { send: 'ms s 3 C99 I c\r\nnew\r\nmg s v c\r\nme s\r\n', expect: 'EX c0\r\nVA 3 c3 Z X\r\nnew\r\nME s exp=-30 la=0 cas=3 fetch=yes cls=1 size=63\r\n' },
      { send: 'ms s 1 C3 c\r\n1\r\nmg s v\r\n', expect: 'HD c4\r\nVA 1\r\n1\r\n' },
    ],
  },
  {
    name: 'vivify on miss (N) and recache (R)',
    steps: [
      { send: 'mg w N30 v c t\r\n', expect: 'VA 0 c1 t30 W\r\n\r\n' },
      { send: 'mg w N30 v c t\r\n', expect: 'VA 0 c1 t30 Z\r\n\r\n', client: 1 },
      { send: 'mg w R60 t\r\nms w 1 T20\r\nx\r\nmg w R30 t\r\n', expect: 'HD t30 Z\r\nHD\r\nHD t20 W\r\n' },
      { send: 'mg w R30 t\r\nmg w R10\r\n', expect: 'HD t20 Z\r\nHD Z\r\n', client: 1 },
      { advance: 15 },
      { send: 'mg w t\r\n', expect: 'HD t5 Z\r\n' },
      { advance: 5 },
      { send: 'mg w t\r\nmg w N5 t\r\n', expect: 'EN\r\nHD t5 W\r\n' },
    ],
  },
  {
    name: 'mg T and touch, u leaves the item unfetched',
    steps: [
      { send: 'ms t 1\r\nx\r\nmg t u\r\nmg t h\r\nmg t T100 t\r\nmg t t T200 t\r\n', expect: 'HD\r\nHD\r\nHD h0\r\nHD t100\r\nCLIENT_ERROR duplicate flag\r\n' },
      { advance: 40 },
      { send: 'mg t t l\r\nme t\r\n', expect: 'HD t60 l40\r\nME t exp=-60 la=40 cas=1 fetch=yes cls=1 size=61\r\n' },
      { send: 'mg t T4294967296 t\r\n', expect: 'HD t-1\r\n' },
    ],
  },
  {
    name: 'ma',
    steps: [
      {
        send: 'ma n\r\nma n N0 J10 v\r\nma n v t c\r\nma n MD D100 v\r\nma n M+ D5 v q\r\nma n q\r\nma n MI D5 q v\r\nmg n v\r\n',
        expect: 'NF\r\nVA 2\r\n10\r\nVA 2 t-1 c2\r\n11\r\nVA 1\r\n0\r\nVA 2\r\n11\r\n',
      },
      {
        send: 'ma n Dx\r\nma n Jx\r\nma n MX\r\nma n MII\r\nma nf q\r\nma nf N0 q v\r\nma nf C999 v\r\nma nf C999 k O5 q\r\n',
        expect:
          'CLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid mode for ma M token\r\n' +
          'CLIENT_ERROR invalid or duplicate flag\r\nNF\r\nVA 1\r\n0\r\nEX\r\nEX knf O5\r\n',
      },
      {
        send: 'ms k9 1\r\n9\r\nma k9 T100 t\r\nmg k9 t v\r\nms k8 2\r\n99\r\nma k8 T100 t\r\nmg k8 t v\r\nms k7 2\r\n10\r\nma k7 T100 t\r\nmg k7 t v\r\n',
        expect: 'HD\r\nHD t100\r\nVA 2 t-1\r\n10\r\nHD\r\nHD t100\r\nVA 3 t-1\r\n100\r\nHD\r\nHD t100\r\nVA 2 t100\r\n11\r\n',
      },
      {
        send: 'ms k0 0\r\n\r\nma k0 C999\r\nma k0\r\nms big 2\r\nab\r\nma big\r\nma Zm9v b N0 k v\r\nma z N50 T20 t J7 D3 MD c\r\n',
        expect:
          'HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n' +
          'HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\nVA 1 kZm9v b\r\n0\r\nHD t20 c17\r\n',
      },
    ],
  },
  {
    name: 'md',
    steps: [
      {
        send: 'md x\r\nmd x q\r\nms x 1\r\n1\r\nmd x C99 q\r\nmd x q\r\nmd x k O9\r\nms x 1\r\n1\r\nmd x C0\r\nmd x I q\r\nmg x c v\r\nmd x C0 I\r\n',
        expect: 'NF\r\nNF\r\nHD\r\nEX\r\nNF kx O9\r\nHD\r\nEX\r\nVA 1 c3 X W\r\n1\r\nEX\r\n',
      },
      { send: 'md x C3 T5 k I\r\nmg x c t\r\nmd x C3 I k\r\nmd x T5\r\nmg x\r\n', expect: 'HD kx\r\nHD c4 t5 X W\r\nEX kx\r\nHD\r\nEN\r\n' },
    ],
  },
  {
    name: 'base64 keys',
    steps: [
      {
        send: 'ms Zm9vYmFy 3 b k c\r\nabc\r\nmg Zm9vYmFy b k v\r\nmg foobar k v\r\nme Zm9vYmFy b\r\nme foobar\r\n',
        expect:
          'HD kZm9vYmFy b c1\r\nVA 3 kZm9vYmFy b\r\nabc\r\nVA 3 kZm9vYmFy b\r\nabc\r\n' +
          'ME Zm9vYmFy exp=-1 la=0 cas=1 fetch=yes cls=1 size=68\r\nME Zm9vYmFy exp=-1 la=0 cas=1 fetch=yes cls=1 size=68\r\n',
      },
      {
        send: 'md Zm9vYmFy b k q\r\nmg foobar\r\nmg AAEC b N0 k\r\nme AAEC b\r\nmd Zm9vYmFy b k\r\n',
        expect: 'EN\r\nHD k\x00\x01\x02 W\r\nME \x00\x01\x02 exp=-1 la=0 cas=2 fetch=yes cls=1 size=62\r\nNF kZm9vYmFy b\r\n',
      },
      { send: 'ms Zm9v 1 b MA k\r\nx\r\nms Zm9v 1 b\r\nx\r\nms Zm9v 1 b MA k\r\ny\r\nmg Zm9v b k v\r\n', expect: 'NS kZm9v b\r\nHD\r\nHD kZm9v b\r\nVA 2 kfoo\r\nxy\r\n' },
    ],
  },
  {
    // memcached sends the error only once the swallowed block has gone by, so this is one step
    name: 'too large values are refused and swallowed, the old value dropped',
    steps: [
      {
        send: `ms big 1\r\nx\r\nms big 2000000 MR\r\n${'z'.repeat(2000000)}\r\nmg big\r\n`,
        expect: 'HD\r\nSERVER_ERROR object too large for cache\r\nEN\r\n',
      },
    ],
  },
];
