// Every tunable value, declared once (define.ts says what a declaration holds), and the presets.
export * from './define.js';
export * from './coreset.js';
export * from './scoring.js';
export * from './threshold.js';
export * from './background.js';
export * from './extraction.js';
export * from './presets.js';
