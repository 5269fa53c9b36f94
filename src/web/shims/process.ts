// The `process` global that a few core modules read (env flags, exit hooks, the pid in temp names),
// injected into the browser bundle. No `versions`, so libraries do not mistake the page for Node.
export const process = { env: {} as Record<string, string | undefined>, pid: 1, on() {}, off() {}, once() {} };
