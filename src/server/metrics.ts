// Prometheus text exposition: request counts by route/method/status and latency histograms.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
  render(name: string, labels: string): string[] {
    const sep = labels ? `${labels},` : '';
    const lines = BUCKETS.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${this.counts[i]}`);
    const set = labels ? `{${labels}}` : '';
    lines.push(`${name}_bucket{${sep}le="+Inf"} ${this.count}`, `${name}_sum${set} ${this.sum}`, `${name}_count${set} ${this.count}`);
    return lines;
  }
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly inference = new Histogram();

  /** `route` is the route pattern (never the raw URL, so label values stay bounded). */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${route}",method="${method}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hk = `route="${route}"`;
    let h = this.latency.get(hk);
    if (!h) this.latency.set(hk, (h = new Histogram()));
    h.observe(seconds);
  }

  inferenceTime(seconds: number): void {
    this.inference.observe(seconds);
  }

  render(gauges: Record<string, [help: string, value: number]>): string {
    const out = ['# HELP patchcore_http_requests_total HTTP requests by route, method and status.', '# TYPE patchcore_http_requests_total counter'];
    for (const [k, n] of this.requests) out.push(`patchcore_http_requests_total{${k}} ${n}`);
    out.push('# HELP patchcore_http_request_duration_seconds Request latency by route.', '# TYPE patchcore_http_request_duration_seconds histogram');
    for (const [k, h] of this.latency) out.push(...h.render('patchcore_http_request_duration_seconds', k));
    out.push('# HELP patchcore_inference_duration_seconds Decode + predict time of one image.', '# TYPE patchcore_inference_duration_seconds histogram');
    out.push(...this.inference.render('patchcore_inference_duration_seconds', ''));
    for (const [name, [help, value]] of Object.entries(gauges)) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    return out.join('\n') + '\n';
  }
}
