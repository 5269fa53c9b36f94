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

/** The jet scale as 11 SVG gradient stops, shared by the overlay legend and the report's colour bar. */
export const JET_STOPS = Array.from({ length: 11 }, (_, i) => `<stop offset="${i * 10}%" stop-color="${cssColour(i / 10)}"/>`).join('');
