// The tool's name and version, from package.json (dist/src/util/ -> the package root).
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../../../package.json') as { name: string; version: string };

export const TOOL = { name: pkg.name, version: pkg.version };
