// The parts of a tfjs model JSON the converters read: typed, so a field the converters rely on is
// named once here (Keras 2.2 layers models and tfjs graph models, as nsfwjs bundles them).

/**
 * The config fields of the Keras layers the converter supports. Keras writes a layer's whole
 * config, so each field is present on the layer classes that have it (kernel_size on convs,
 * epsilon on BatchNormalization…); the converter reads a field only for those classes.
 */
export interface KerasLayerConfig {
  activation: string;
  use_bias: boolean;
  /** InputLayer: [null, h, w, channels]. */
  batch_input_shape: (number | null)[];
  /** 'same' | 'valid' for convs and pools; [[top, bottom], [left, right]] for ZeroPadding2D. */
  padding: string | [[number, number], [number, number]];
  kernel_size: [number, number];
  strides: [number, number];
  dilation_rate: [number, number];
  pool_size: [number, number];
  axis: number;
  scale: boolean;
  center: boolean;
  epsilon: number;
  // optional in Keras itself (ReLU)
  negative_slope?: number;
  threshold?: number;
  max_value?: number | null;
}

export interface KerasLayer {
  name: string;
  class_name: string;
  config: KerasLayerConfig;
  inbound_nodes: [string, number, number, object][][];
}

/** A Keras layers model's modelTopology. */
export interface KerasTopology {
  model_config: { config: { layers: KerasLayer[] } };
}

/** A TF GraphDef attribute value as the tfjs converter writes it (strings base64). */
export interface TfAttr {
  s?: string;
  list?: { i?: (string | number)[]; s?: string[] };
  shape?: { dim?: { size: string | number }[] };
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

/** A tfjs graph model's modelTopology. */
export interface TfGraphTopology {
  node: TfNode[];
}
