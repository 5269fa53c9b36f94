// --mqtt URL --mqtt-topic T: one QoS 2 message per part on T, and the station's status retained on
// T/status ("online" now, "offline" as the broker's last will). Exactly once across a crash: a
// persistent session (fixed client id, clean: false) and the client's outgoing store in the record
// (SqliteMqttStore), so a message in flight at a kill is resent under its old packet id and the
// broker drops the repeat. While the broker is away the record keeps the part pending; inspection
// never waits for it.
import mqtt, { type IClientOptions, type MqttClient, UniqueMessageIdProvider } from 'mqtt';
import type { ResultRow, ResultStore } from '../record/store.js';
import type { StationMetrics } from '../monitor/station-metrics.js';
import { message, OutboxSink } from './outbox.js';
import { SqliteMqttStore } from './mqtt-store.js';

export interface MqttOptions {
  url: string;
  topic: string;
  station: string;
  status: () => object;
}

/** One client id per station and topic, a session that outlives the process, packets kept in the record. */
export function clientOptions(store: ResultStore, o: MqttOptions): IClientOptions {
  const offline = JSON.stringify({ station: o.station, status: 'offline' });
  return {
    clientId: `patchcore-${o.station}-${o.topic}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200),
    clean: false,
    outgoingStore: new SqliteMqttStore(store.db, o.topic),
    // ids of the stored packets are registered before new ones are drawn, so none is reused
    messageIdProvider: new UniqueMessageIdProvider(),
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    will: { topic: `${o.topic}/status`, payload: Buffer.from(offline), qos: 1, retain: true },
  };
}

export class MqttSink extends OutboxSink {
  readonly kind = 'mqtt';
  private constructor(
    store: ResultStore,
    private readonly client: MqttClient,
    private readonly o: MqttOptions,
    private readonly metrics: StationMetrics,
  ) {
    super(store);
  }

  /** Connects in the background: a broker that is down at start is retried, not fatal. */
  static open(store: ResultStore, o: MqttOptions, metrics: StationMetrics): MqttSink {
    const statusTopic = `${o.topic}/status`;
    const client = mqtt.connect(o.url, clientOptions(store, o));
    const sink = new MqttSink(store, client, o, metrics);
    client.on('connect', () => {
      client.publish(statusTopic, JSON.stringify({ station: o.station, status: 'online', ...o.status() }), { qos: 1, retain: true });
      sink.wake();
    });
    client.on('error', () => metrics.deliveries.mqtt.failed++); // connection errors; the client reconnects
    return sink;
  }

  /** Publishes only once connected (the stored packets are resent first); a failure leaves the part pending. */
  protected async deliver(r: ResultRow): Promise<boolean | null> {
    if (!this.client.connected) return null; // the next 'connect' wakes the outbox
    try {
      await this.client.publishAsync(this.o.topic, JSON.stringify(message(r)), { qos: 2 });
      this.metrics.deliveries.mqtt.ok++;
      return true;
    } catch {
      this.metrics.deliveries.mqtt.failed++;
      return null;
    }
  }

  async close(): Promise<void> {
    await this.stop();
    const statusTopic = `${this.o.topic}/status`;
    if (this.client.connected)
      await this.client
        .publishAsync(statusTopic, JSON.stringify({ station: this.o.station, status: 'offline' }), { qos: 1, retain: true })
        .catch(() => undefined);
    await this.client.endAsync().catch(() => undefined);
  }
}
