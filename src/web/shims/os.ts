// Browser stand-in for node:os. One "core" for the coreset: the page runs it in one Web Worker.
export const tmpdir = () => '/tmp';
export const homedir = () => '/home';
export const availableParallelism = () => 1;
export const cpus = () => [] as { times: { idle: number } }[];
export const totalmem = () => 0;
export default { tmpdir, homedir, availableParallelism, cpus, totalmem };
