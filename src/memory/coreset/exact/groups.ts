// Points of one part grouped by their closest center so far (the center that last lowered
// their δ). A group's members sit contiguously, sorted by δ descending, with their heads
// copied alongside, so a visit streams through memory and stops at the first member that
// the center provably cannot reach.
import { type MaxTree, NO_INDEX } from './max-tree.js';
import { REL, type Movers, type Probe } from './probe.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class Groups {
  private readonly ids: Int32Array[] = []; // member point ids; −1 once moved on
  private readonly dl: Float64Array[] = []; // members' δ
  private readonly hs: Float32Array[] = []; // members' heads, K floats each
  private readonly size: Int32Array;
  private readonly head: Int32Array; // first live member (all before it have moved on)
  private readonly dead: Int32Array; // members that moved on, counted since the last compaction
  private keys = new Float64Array(1024);
  private order = new Int32Array(1024);

  /** gMax: δ of each group's first live member (−∞ when empty), this part's slice of Board.gMax. */
  constructor(
    count: number,
    private readonly K: number,
    readonly gMax: Float64Array,
    private readonly tree: MaxTree,
  ) {
    this.size = new Int32Array(count);
    this.head = new Int32Array(count);
    this.dead = new Int32Array(count);
  }

  /**
   * Move the members of group g that the probe's center lowers; cg ≤ ‖c − g‖. Returns whether
   * any moved (then gMax[g] and the tree are updated).
   */
  visit(g: number, cg: number, probe: Probe): boolean {
    const gmax = this.gMax[g];
    if (gmax <= 0 || cg >= 2 * gmax * (1 + 4 * REL)) return false;
    // A member with δ_i ≤ half has ‖z_i−c‖ ≥ ‖c−g‖ − δ_i ≥ δ_i; members are sorted, so stop there.
    const half = (cg * (1 - REL)) / (2 * (1 + REL));
    const ids = this.ids[g],
      dl = this.dl[g],
      hs = this.hs[g],
      size = this.size[g],
      K = this.K;
    let moved = 0;
    for (let j = this.head[g]; j < size && dl[j] > half; j++) {
      const id = ids[j];
      if (id >= 0 && probe.tryMove(id, dl[j], hs, j * K)) {
        ids[j] = -1;
        moved++;
      }
    }
    if (moved === 0) return false;
    let head = this.head[g];
    while (head < size && ids[head] < 0) head++;
    const dead = (this.dead[g] += moved);
    if (2 * dead > size + 8) head = this.compact(g, head, size - dead);
    this.head[g] = head;
    const live = head < this.size[g];
    this.gMax[g] = live ? this.dl[g][head] : -Infinity;
    this.tree.set(g, this.gMax[g], live ? this.ids[g][head] : NO_INDEX);
    return true;
  }

  /** Once half of a group has moved on: copy the live members into right-sized arrays. */
  private compact(g: number, head: number, left: number): number {
    const K = this.K,
      ids = this.ids[g],
      dl = this.dl[g],
      hs = this.hs[g],
      size = this.size[g];
    const nIds = new Int32Array(left),
      nDl = new Float64Array(left),
      nH = new Float32Array(left * K);
    for (let j = head, w = 0; j < size; j++) {
      if (ids[j] < 0) continue;
      nIds[w] = ids[j];
      nDl[w] = dl[j];
      for (let k = 0; k < K; k++) nH[w * K + k] = hs[j * K + k];
      w++;
    }
    this.ids[g] = nIds;
    this.dl[g] = nDl;
    this.hs[g] = nH;
    this.size[g] = left;
    this.dead[g] = 0;
    return 0;
  }

  /**
   * Mover positions by (δ desc, index asc). A native sort of the δ (positive doubles, so their
   * bits sort like their values) with the position packed into the low 20 mantissa bits puts
   * everything in place except δ equal in their top 32 bits; one insertion pass with the exact
   * order fixes those. A JS comparator sort was ~5× slower.
   */
  private sortMovers(mv: Movers): Int32Array {
    const m = mv.size,
      mdl = mv.dl,
      mids = mv.ids;
    if (this.order.length < m) {
      this.order = new Int32Array(2 * m);
      this.keys = new Float64Array(2 * m);
    }
    const order = this.order.subarray(0, m);
    if (m < 1 << 20 && LITTLE_ENDIAN) {
      const keys = this.keys.subarray(0, m),
        words = new Uint32Array(keys.buffer, 0, 2 * m);
      for (let k = 0; k < m; k++) {
        keys[k] = mdl[k];
        words[2 * k] = (words[2 * k] & ~0xfffff) | k; // little-endian: low word first
      }
      keys.sort();
      for (let k = 0; k < m; k++) order[m - 1 - k] = words[2 * k] & 0xfffff; // descending
    } else {
      for (let k = 0; k < m; k++) order[k] = k;
      order.sort((a, b) => mdl[b] - mdl[a] || mids[a] - mids[b]);
    }
    for (let a = 1; a < m; a++) {
      // insertion pass: O(m) when nearly sorted
      const o = order[a],
        v = mdl[o],
        id = mids[o];
      let b = a - 1;
      for (; b >= 0; b--) {
        const p = order[b];
        if (mdl[p] > v || (mdl[p] === v && mids[p] < id)) break;
        order[b + 1] = p;
      }
      order[b + 1] = o;
    }
    return order;
  }

  /**
   * The new group t: the movers, sorted by (δ desc, index asc) so that the first member is
   * the tree's tie-break winner; heads copied from H (by local index id >> shift).
   */
  add(t: number, mv: Movers, H: Float32Array, shift: number): void {
    const m = mv.size,
      K = this.K,
      mids = mv.ids,
      mdl = mv.dl;
    const order = this.sortMovers(mv);
    const ids = new Int32Array(m),
      dl = new Float64Array(m),
      hs = new Float32Array(m * K);
    for (let k = 0; k < m; k++) {
      const o = order[k],
        id = mids[o],
        src = (id >> shift) * K;
      ids[k] = id;
      dl[k] = mdl[o];
      for (let a = 0; a < K; a++) hs[k * K + a] = H[src + a];
    }
    this.ids.push(ids);
    this.dl.push(dl);
    this.hs.push(hs);
    this.size[t] = m;
    if (m > 0) {
      this.gMax[t] = dl[0];
      this.tree.set(t, dl[0], ids[0]);
    }
  }
}
