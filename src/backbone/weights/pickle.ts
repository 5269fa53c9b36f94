// A minimal pickle VM: the opcodes torch.save emits (protocol 2, plus the few protocol-4 ones).
// Globals are never imported: calls go to the caller's `reduce` hook or become inert PyObjects.
import { UserError } from '../../util/errors.js';

export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling a global we know nothing about; kept so unused parts of a pickle never fail. */
export class PyObject {
  state: unknown;
  constructor(
    readonly callable: string,
    readonly args: unknown[],
  ) {}
}

export interface PickleHooks {
  persistentLoad(pid: unknown): unknown;
  /** Return undefined to leave the call to the generic handling. */
  reduce?(callable: string, args: unknown[]): unknown;
}

/** Run one pickle starting at `start`; returns the value and the offset just past STOP. */
export function unpickle(bytes: Uint8Array, hooks: PickleHooks, start = 0, source = 'pickle'): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let p = start;

  const fail = (why: string): never => {
    throw new UserError(`${source}: ${why} at byte ${p}`);
  };
  const need = (n: number): void => {
    if (p + n > bytes.length) fail('truncated pickle');
  };
  const u8 = () => (need(1), bytes[p++]);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const take = (n: number) => (need(n), (p += n), bytes.subarray(p - n, p));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('truncated pickle');
    const s = text.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const pop = (): unknown => (stack.length ? stack.pop() : fail('pickle stack underflow'));
  const popMark = (): unknown[] => {
    const items = stack;
    stack = marks.pop() ?? fail('pickle MARK missing');
    return items;
  };
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail('pickle stack underflow'));
  const call = (fn: unknown, args: unknown): unknown => {
    const name = fn instanceof PyGlobal ? fn.qualified : fail('call of a non-global');
    const list = Array.isArray(args) ? args : [];
    const r = hooks.reduce?.(name, list);
    if (r !== undefined) return r;
    if (name === 'collections.OrderedDict' || name === 'builtins.dict') return new Map(list.length ? (list[0] as [unknown, unknown][]) : []);
    return new PyObject(name, list);
  };
  const setItems = (target: unknown, kv: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM on a non-dict');
    for (let i = 0; i + 1 < kv.length; i += 2) (target as Map<unknown, unknown>).set(kv[i], kv[i + 1]);
  };
  const long = (b: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        take(8);
        break; // FRAME
      case 0x2e:
        return { value: pop(), end: p }; // STOP
      case 0x28:
        marks.push(stack);
        stack = [];
        break; // MARK
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4a:
        need(4);
        stack.push(view.getInt32(p, true));
        p += 4;
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(long(take(u8())));
        break; // LONG1
      case 0x47:
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break; // BINFLOAT
      case 0x58:
        stack.push(text.decode(take(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text.decode(take(u8())));
        break; // SHORT_BINUNICODE
      case 0x54:
        stack.push(latin1(take(u32())));
        break; // BINSTRING
      case 0x55:
        stack.push(latin1(take(u8())));
        break; // SHORT_BINSTRING
      case 0x42:
        stack.push(take(u32()).slice());
        break; // BINBYTES
      case 0x43:
        stack.push(take(u8()).slice());
        break; // SHORT_BINBYTES
      case 0x63: {
        const mod = line();
        stack.push(new PyGlobal(mod, line()));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop();
        stack.push(new PyGlobal(String(pop()), String(name)));
        break;
      } // STACK_GLOBAL
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68: {
        const k = u8();
        stack.push(memo.has(k) ? memo.get(k) : fail(`memo ${k} unset`));
        break;
      } // BINGET
      case 0x6a: {
        const k = u32();
        stack.push(memo.has(k) ? memo.get(k) : fail(`memo ${k} unset`));
        break;
      } // LONG_BINGET
      case 0x74: {
        const items = popMark();
        stack.push(items);
        break;
      } // TUPLE (popMark replaces `stack`)
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop();
        stack.push([pop(), b, c]);
        break;
      } // TUPLE3
      case 0x61: {
        const v = pop();
        (top() as unknown[]).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        (top() as unknown[]).push(...items);
        break;
      } // APPENDS
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x52:
      case 0x81: {
        const args = pop();
        stack.push(call(pop(), args));
        break;
      } // REDUCE, NEWOBJ
      case 0x51:
        stack.push(hooks.persistentLoad(pop()));
        break; // BINPERSID
      case 0x62: {
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) obj.state = state;
        break;
      } // BUILD (dict metadata ignored)
      case 0x30:
        pop();
        break; // POP
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
