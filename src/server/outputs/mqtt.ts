// --mqtt URL --mqtt-topic T: one QoS 1 message per part on T, and the station's status retained on
// T/status ("online" now, "offline" as the broker's last will). While the broker is away the
// client holds the message and the record keeps it pending; inspection never waits for it.
import mqtt, { type MqttClient } from 'mqtt';
import type { ResultRow, ResultStore } from '../record/store.js';
import type { StationMetrics } from '../monitor/station-metrics.js';
import { message, OutboxSink } from './outbox.js';

export interface MqttOptions {
  url: string;
  topic: string;
  station: string;
  status: () => object;
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
    const offline = JSON.stringify({ station: o.station, status: 'offline' });
    const client = mqtt.connect(o.url, {
      clientId: `patchcore-${o.station}-${process.pid}`,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: statusTopic, payload: Buffer.from(offline), qos: 1, retain: true },
    });
    const sink = new MqttSink(store, client, o, metrics);
    client.on('connect', () => {
      client.publish(statusTopic, JSON.stringify({ station: o.station, status: 'online', ...o.status() }), { qos: 1, retain: true });
      sink.wake();
    });
    client.on('error', () => metrics.deliveries.mqtt.failed++); // connection errors; the client reconnects
    return sink;
  }

  protected async deliver(r: ResultRow): Promise<boolean> {
    try {
      await this.client.publishAsync(this.o.topic, JSON.stringify(message(r)), { qos: 1 });
      this.metrics.deliveries.mqtt.ok++;
      return true;
    } catch {
      this.metrics.deliveries.mqtt.failed++;
      return false;
    }
  }

  async close(): Promise<void> {
    await this.stop();
    const statusTopic = `${this.o.topic}/status`;
    if (this.client.connected)
      await this.client.publishAsync(statusTopic, JSON.stringify({ station: this.o.station, status: 'offline' }), { qos: 1, retain: true }).catch(() => undefined);
    await this.client.endAsync().catch(() => undefined);
  }
}
