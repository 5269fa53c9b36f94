// serve's station flags: the record, --min-area, watched folders and the outputs.
import * as os from 'node:os';
import { custom, integer, repeated, text, withDefault } from '../options.js';
import { invalid } from '../../util/errors.js';
import type { PatchCore } from '../../model/patchcore.js';
import type { ModelRepository } from '../../server/repository.js';
import { StationServices } from '../../server/record/setup.js';

function url(protocols: string[]) {
  return (s: string, f: string) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw invalid(f, `a URL (${protocols.join(', ')})`, s);
    }
    if (!protocols.includes(u.protocol.slice(0, -1))) throw invalid(f, `a URL (${protocols.join(', ')})`, s);
    return s;
  };
}

export const STATION_OPTIONS = {
  record: withDefault('DIR', "the station's record: results.sqlite and each part's image and heatmap ('none' keeps no record)", 'patchcore-record'),
  'keep-images': integer('N', 'parts whose image and heatmap stay on disk; older ones keep their row only', 0, 2 ** 31, 10_000),
  station: text('NAME', 'station name in the record and the messages (default: host name)'),
  'min-area': integer('PX', "ignore defect regions smaller than PX pixels; the verdict then follows the regions, as predict's", 1, 2 ** 31, undefined),
  watch: repeated(
    'DIR[=MODEL]',
    'judge each new image written into DIR once, with MODEL of --models (default: the default model); done files move to DIR/.done/',
    (s, f) => {
      const at = s.lastIndexOf('=');
      const [dir, model] = at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
      if (!dir || model === '') throw invalid(f, 'DIR or DIR=MODEL', s);
      return { dir, model };
    },
  ),
  mqtt: custom(
    'URL',
    'MQTT broker (mqtt://, mqtts://, ws://): one QoS 2 message per part, exactly once across restarts',
    undefined,
    url(['mqtt', 'mqtts', 'ws', 'wss', 'tcp']),
  ),
  'mqtt-topic': withDefault('T', 'topic of the part messages; the station status is retained on T/status', 'patchcore/results'),
  webhook: custom('URL', 'POST each result as JSON to URL, retried with backoff', undefined, url(['http', 'https'])),
  'drift-window': integer('N', 'parts in the rolling window of the drift gauges', 10, 1_000_000, 200),
} as const;

type StationValues = {
  record: string;
  'keep-images': number;
  station: string | undefined;
  'min-area': number | undefined;
  watch: { dir: string; model?: string }[];
  mqtt: string | undefined;
  'mqtt-topic': string;
  webhook: string | undefined;
  'drift-window': number;
};

/** `served.model` may be a getter (a repository's default model, swapped on reload). */
export function stationConfig(v: StationValues, served: { readonly model: PatchCore }, modelName: string, repository?: ModelRepository): StationServices {
  return StationServices.open({
    get model() {
      return served.model;
    },
    modelName,
    repository,
    station: v.station ?? os.hostname(),
    recordDir: v.record === 'none' ? null : v.record,
    keepImages: v['keep-images'],
    minArea: v['min-area'],
    watch: v.watch,
    mqtt: v.mqtt ? { url: v.mqtt, topic: v['mqtt-topic'] } : undefined,
    webhook: v.webhook,
    driftWindow: v['drift-window'],
    log: (line) => process.stderr.write(`patchcore serve: ${line}\n`),
  });
}
