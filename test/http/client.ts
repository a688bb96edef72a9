// A small HTTP client for the HTTP front's tests (node:http, one request per call), a raw
// socket for the requests node would not send (cut-off bodies, wrong lengths), and a
// Prometheus text-format parser for /metrics.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Ask {
  method?: string;
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string | Buffer[];
  /** Send the body in these pieces with Transfer-Encoding: chunked. */
  chunked?: boolean;
  tls?: boolean;
  agent?: http.Agent;
}

export function ask(port: number, a: Ask): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = a.tls ? https : http;
    const req = mod.request(
      {
        host: '127.0.0.1',
        port,
        method: a.method ?? 'GET',
        path: a.path,
        headers: a.headers,
        agent: a.agent ?? false,
        ...(a.tls ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const parts = a.body === undefined ? [] : Array.isArray(a.body) ? a.body : [a.body];
    if (a.chunked) {
      req.setHeader('Transfer-Encoding', 'chunked');
      for (const p of parts) req.write(p);
      req.end();
    } else {
      if (parts.length > 0 && a.headers?.['content-length'] === undefined && a.headers?.['Content-Length'] === undefined) {
        req.setHeader('Content-Length', parts.reduce((n, p) => n + Buffer.byteLength(p), 0));
      }
      for (const p of parts) req.write(p);
      req.end();
    }
  });
}

/** Send raw bytes, then either keep the socket open (`hold`) or close it; resolves with what came back. */
export function raw(port: number, bytes: Buffer | string, opts: { closeAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(bytes);
    if (opts.closeAfterMs !== undefined) setTimeout(() => s.destroy(), opts.closeAfterMs);
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4: families with HELP/TYPE, samples, escaped label values. */
export function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const seenFamilies: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t !== null) {
      if (types.has(t[1]!)) throw new Error(`family ${t[1]} declared twice`);
      types.set(t[1]!, t[2]!);
      seenFamilies.push(t[1]!);
      continue;
    }
    if (line.startsWith('# HELP ') || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let pos = 0;
    while (pos < body.length) {
      re.lastIndex = pos;
      const l = re.exec(body);
      if (l === null) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      pos = re.lastIndex;
    }
    const value = Number(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') throw new Error(`bad value: ${line}`);
    // every sample belongs to the family declared last (families are not interleaved)
    if (seenFamilies[seenFamilies.length - 1] !== m[1]) throw new Error(`sample ${m[1]} outside its family`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}
