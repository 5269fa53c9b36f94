// mqtt.js's outgoing store kept in the record instead of memory. With QoS 2 and a persistent
// session, a PUBLISH or PUBREL that was in flight when the process died is resent after the restart
// under its old packet id, and the broker, which remembers that id, does not forward it twice.
// Finishing a packet (PUBCOMP) deletes it and marks its result sent in the same transaction, so the
// outbox never publishes anew what the store will resend.
import type Database from 'better-sqlite3';
import type { IStore, Packet } from 'mqtt';
import { Readable } from 'node:stream';

type Callback = (error?: Error, packet?: Packet) => void;

interface Stored {
  packet: string;
  payload: Buffer | null;
}

/** The result a part message carries (its JSON's `id`); null for the station's status messages. */
function resultIdOf(p: Packet, topic: string): string | null {
  if (p.cmd !== 'publish' || p.topic !== topic) return null;
  try {
    const id = (JSON.parse(Buffer.from(p.payload as Buffer | string).toString()) as { id?: unknown }).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

function revive(r: Stored): Packet {
  const p = JSON.parse(r.packet) as Packet & { payload?: Buffer };
  if (r.payload !== null) p.payload = r.payload;
  return p;
}

export class SqliteMqttStore implements IStore {
  constructor(
    private readonly db: Database.Database,
    /** Topic of the part messages: their packets name the result they deliver. */
    private readonly topic: string,
  ) {}

  put(packet: Packet, cb: (error?: Error) => void): this {
    const { payload, ...rest } = packet as Packet & { payload?: Buffer | string };
    try {
      this.db
        .prepare(
          `INSERT INTO mqtt_outgoing (message_id, result_id, packet, payload) VALUES (?, ?, ?, ?)
           ON CONFLICT (message_id) DO UPDATE SET packet = excluded.packet, payload = excluded.payload, result_id = COALESCE(excluded.result_id, result_id)`,
        )
        .run(packet.messageId, resultIdOf(packet, this.topic), JSON.stringify(rest), payload === undefined ? null : Buffer.from(payload));
    } catch (e) {
      cb(e as Error);
      return this;
    }
    cb();
    return this;
  }

  createStream(): ReturnType<IStore['createStream']> {
    const rows = this.db.prepare('SELECT packet, payload FROM mqtt_outgoing ORDER BY rowid').all() as Stored[];
    return Readable.from(rows.map(revive), { objectMode: true }) as unknown as ReturnType<IStore['createStream']>;
  }

  del(packet: Pick<Packet, 'messageId'>, cb: Callback): this {
    if (!this.db.open) {
      cb(new Error('the record is closed'));
      return this;
    }
    const row = this.db.prepare('SELECT result_id, packet, payload FROM mqtt_outgoing WHERE message_id = ?').get(packet.messageId) as
      | (Stored & { result_id: string | null })
      | undefined;
    if (!row) {
      cb(new Error('missing packet'));
      return this;
    }
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM mqtt_outgoing WHERE message_id = ?').run(packet.messageId);
      if (row.result_id !== null) this.db.prepare('UPDATE results SET mqtt = 1 WHERE id = ?').run(row.result_id);
    })();
    cb(undefined, revive(row));
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: Callback): this {
    if (!this.db.open) {
      cb(new Error('the record is closed'));
      return this;
    }
    const row = this.db.prepare('SELECT packet, payload FROM mqtt_outgoing WHERE message_id = ?').get(packet.messageId) as Stored | undefined;
    if (row) cb(undefined, revive(row));
    else cb(new Error('missing packet'));
    return this;
  }

  /** The rows stay: they are the next start's resends. */
  close(cb: (error?: Error) => void): void {
    cb();
  }
}
