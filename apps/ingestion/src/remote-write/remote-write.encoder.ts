import { Root, Type } from 'protobufjs';
import { compress, uncompress } from 'snappyjs';

/**
 * Prometheus remote-write 1.0 (`prometheus.WriteRequest`, prompb/remote.proto and types.proto), built
 * with protobufjs's reflection API: four messages, so no .proto file to ship and no generated code.
 * Field numbers are the spec's; metadata (field 3) is optional and not sent.
 */
const root = Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
});
const WriteRequest: Type = root.lookupType('prometheus.WriteRequest');

export interface RemoteSample {
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface RemoteSeries {
  /** Sorted by name, `__name__` among them (the spec asks receivers to expect sorted labels). */
  labels: { name: string; value: string }[];
  samples: RemoteSample[];
}

/** The HTTP body of one remote-write request: the protobuf WriteRequest, Snappy block-compressed. */
export function encodeWriteRequest(series: RemoteSeries[]): Uint8Array {
  return compress(WriteRequest.encode({ timeseries: series }).finish());
}

/** The inverse, for tests and tools that want to look at what was sent. */
export function decodeWriteRequest(body: Uint8Array): { timeseries: RemoteSeries[] } {
  const message = WriteRequest.decode(uncompress(body));
  return WriteRequest.toObject(message, { longs: Number, defaults: true }) as { timeseries: RemoteSeries[] };
}
