// The tool's name and version, recorded in model.json and shown by --version. A constant rather than
// a read of package.json, so the browser bundle has it too; test/version.test.ts keeps them equal.
export const TOOL = { name: 'patchcore-ts', version: '0.5.0' } as const;
