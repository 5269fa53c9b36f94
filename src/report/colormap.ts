// The jet colour map, as in the PatchCore paper's heatmap figures.
export function jet(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t));
  const c = (v: number) => Math.round(255 * Math.max(0, Math.min(1, v)));
  return [c(1.5 - Math.abs(4 * x - 3)), c(1.5 - Math.abs(4 * x - 2)), c(1.5 - Math.abs(4 * x - 1))];
}

export function cssColour(t: number): string {
  const [r, g, b] = jet(t);
  return `rgb(${r},${g},${b})`;
}
